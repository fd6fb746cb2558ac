#!/usr/bin/python3
"""PyTorch twin of cvae's conv CVAE with a learned prior, and the fixture generator for
TwinConvFixture in tests/modalities/image/test_conv.cpp.

The twin mirrors src/models/cvae_model.cpp (parameter names included):
  encoder: per channel c_i, Conv2d(k=4, s=2, p=1) + ReLU; [flatten, onehot(c)] -> (Linear, ReLU)
           per hidden width -> mu_head, logvar_head; logvar clamped to [-10, 10]
  decoder: [z, onehot(c)] -> (Linear, ReLU) per hidden width reversed -> Linear to the last conv
           map + ReLU -> ConvTranspose2d(k=4, s=2, p=1, output_padding so sizes match the
           encoder's), each fed [features, onehot(c) as constant maps], ReLU between them;
           the last has P * C channels (P-major flatten)
  prior:   onehot(c) -> Linear(C, 128) + ReLU -> mu_head, logvar_head (logvar clamped)
  likelihoods from torch.distributions (independent of cvae's own formulas):
    cbernoulli: ContinuousBernoulli(logits=l).log_prob(x)
    gaussian:   Normal(sigmoid(a), sqrt(softplus(b) + 1e-4)).log_prob(x)
  kl:   Normal(mu, std) || Normal(mu_p, std_p), torch.distributions.kl_divergence, per dimension
  loss: mean_b(recon) + beta * sum_d max(free_bits, mean_b kl_bd)

Run (needs Debian's python3-torch; not needed at test time, the fixtures are committed):
  /usr/bin/python3 tests/reference/twin_conv.py --likelihood cbernoulli --free-bits 0.3 \
      --out tests/fixtures/twin_conv_cbernoulli.json
  /usr/bin/python3 tests/reference/twin_conv.py --likelihood gaussian --free-bits 0 \
      --out tests/fixtures/twin_conv_gaussian.json
"""
import argparse

import torch
import torch.distributions as D
import torch.nn as nn
import torch.nn.functional as F

from twin import write_fixture  # same folder


def sizes(n, layers):
    out = [n]
    for _ in range(layers):
        out.append(out[-1] // 2)
    return out


class Encoder(nn.Module):
    def __init__(self, shape, channels, cond, hidden, latent):
        super().__init__()
        chans = [shape[0]] + channels
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 4, 2, 1) for a, b in zip(chans[:-1], chans[1:]))
        hs, ws = sizes(shape[1], len(channels)), sizes(shape[2], len(channels))
        widths = [channels[-1] * hs[-1] * ws[-1] + cond] + list(hidden)
        self.dense = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.mu_head = nn.Linear(widths[-1], latent)
        self.logvar_head = nn.Linear(widths[-1], latent)

    def forward(self, x, c):
        h = x
        for conv in self.convs:
            h = F.relu(conv(h))
        h = torch.cat([h.flatten(1), c], 1)
        for layer in self.dense:
            h = F.relu(layer(h))
        return self.mu_head(h), self.logvar_head(h)


class Decoder(nn.Module):
    def __init__(self, shape, channels, cond, hidden, latent, p):
        super().__init__()
        hs, ws = sizes(shape[1], len(channels)), sizes(shape[2], len(channels))
        self.map = (channels[-1], hs[-1], ws[-1])
        widths = [latent + cond] + list(reversed(hidden)) + [self.map[0] * self.map[1] * self.map[2]]
        self.dense = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        deconvs = []
        for i in reversed(range(len(channels))):
            cout = p * shape[0] if i == 0 else channels[i - 1]
            op = (hs[i] - 2 * hs[i + 1], ws[i] - 2 * ws[i + 1])
            deconvs.append(nn.ConvTranspose2d(channels[i] + cond, cout, 4, 2, 1, output_padding=op))
        self.deconvs = nn.ModuleList(deconvs)

    def forward(self, z, c):
        h = torch.cat([z, c], 1)
        for layer in self.dense:
            h = F.relu(layer(h))
        h = h.view(h.shape[0], *self.map)
        for i, d in enumerate(self.deconvs):
            maps = c[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])
            h = d(torch.cat([h, maps], 1))
            if i + 1 < len(self.deconvs):
                h = F.relu(h)
        return h.flatten(1)


class Prior(nn.Module):
    def __init__(self, cond, latent):
        super().__init__()
        self.hidden = nn.Linear(cond, 128)
        self.mu_head = nn.Linear(128, latent)
        self.logvar_head = nn.Linear(128, latent)

    def forward(self, c):
        h = F.relu(self.hidden(c))
        return self.mu_head(h), self.logvar_head(h)


class CVAE(nn.Module):
    def __init__(self, shape, classes, channels, hidden, latent, likelihood):
        super().__init__()
        self.classes, self.likelihood = classes, likelihood
        p = 2 if likelihood == "gaussian" else 1
        self.encoder = Encoder(shape, channels, classes, hidden, latent)
        self.decoder = Decoder(shape, channels, classes, hidden, latent, p)
        self.prior = Prior(classes, latent)

    def forward(self, x, y, eps, beta, free_bits):
        c = F.one_hot(y, self.classes).float()
        mu, logvar = self.encoder(x, c)
        logvar = logvar.clamp(-10, 10)
        z = mu + torch.exp(0.5 * logvar) * eps
        params = self.decoder(z, c)
        xf = x.flatten(1)
        if self.likelihood == "cbernoulli":
            log_px = D.ContinuousBernoulli(logits=params).log_prob(xf)
        else:
            d = xf.shape[1]
            mean = torch.sigmoid(params[:, :d])
            var = F.softplus(params[:, d:]) + 1e-4
            log_px = D.Normal(mean, var.sqrt()).log_prob(xf)
        loss_recon = -log_px.sum(1)
        mu_p, logvar_p = self.prior(c)
        logvar_p = logvar_p.clamp(-10, 10)
        kl = D.kl_divergence(D.Normal(mu, torch.exp(0.5 * logvar)), D.Normal(mu_p, torch.exp(0.5 * logvar_p)))
        loss = loss_recon.mean() + beta * kl.mean(0).clamp(min=free_bits).sum()
        return dict(mu=mu, logvar=logvar, z=z, x_params=params, loss_recon=loss_recon, loss_kl=kl.sum(1),
                    prior_mu=mu_p, prior_logvar=logvar_p, loss=loss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--likelihood", choices=["cbernoulli", "gaussian"], required=True)
    ap.add_argument("--free-bits", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=31337)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    shape, classes, channels, hidden, latent, batch, beta = [1, 7, 9], 3, [3, 4], [6], 2, 4, 0.8
    model = CVAE(shape, classes, channels, hidden, latent, args.likelihood)
    x = torch.rand(batch, *shape)
    x[0, 0, 0, 0] = 0.0
    x[1, 0, 1, 2] = 1.0
    x[2, 0, 3, 3] = 0.5  # cbernoulli: exercises the series branch when a logit is near 0
    y = torch.tensor([0, 2, 1, 2])
    eps = torch.randn(batch, latent)
    out = model(x, y, eps, beta, args.free_bits)
    out["loss"].backward()
    config = {"input_shape": shape, "classes": classes, "channels": channels, "hidden": hidden,
              "latent": latent, "likelihood": args.likelihood, "beta": beta, "free_bits": args.free_bits}
    write_fixture(args.out, "tests/reference/twin_conv.py", config, model, x, y, eps, out)


if __name__ == "__main__":
    main()
