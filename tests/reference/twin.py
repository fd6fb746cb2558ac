#!/usr/bin/python3
"""PyTorch twin of cvae's MLP CVAE, and the fixture generator for TwinFixture in tests/models/test_cvae_model.cpp.

The twin mirrors src/models/cvae_model.cpp layer for layer (parameter names included):
  encoder: [flatten(x), onehot(c)] -> (Linear, ReLU) per hidden width -> mu_head, logvar_head
           logvar clamped to [logvar_min, logvar_max]
  z = mu + exp(0.5 * logvar) * eps
  decoder: [z, onehot(c)] -> (Linear, ReLU) per hidden width, reversed -> out (Bernoulli logits)
  loss_recon = sum_features BCEWithLogits(x_logits, x); loss_kl = 0.5 * sum(mu^2 + exp(logvar) - 1 - logvar)
  loss = mean_batch(loss_recon + beta * loss_kl)

Run (needs Debian's python3-torch; not needed at test time, the fixture is committed):
  /usr/bin/python3 tests/reference/twin.py --out tests/fixtures/twin_tiny.json
"""
import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    def __init__(self, features, cond, hidden, latent):
        super().__init__()
        widths = [features + cond] + list(hidden)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.mu_head = nn.Linear(widths[-1], latent)
        self.logvar_head = nn.Linear(widths[-1], latent)

    def forward(self, x, c):
        h = torch.cat([x.flatten(1), c], 1)
        for layer in self.layers:
            h = F.relu(layer(h))
        return self.mu_head(h), self.logvar_head(h)


class Decoder(nn.Module):
    def __init__(self, latent, cond, hidden, outputs):
        super().__init__()
        widths = [latent + cond] + list(reversed(hidden))
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.out = nn.Linear(widths[-1], outputs)

    def forward(self, z, c):
        h = torch.cat([z, c], 1)
        for layer in self.layers:
            h = F.relu(layer(h))
        return self.out(h)


class CVAE(nn.Module):
    def __init__(self, features, classes, hidden, latent, logvar_min=-10.0, logvar_max=10.0):
        super().__init__()
        self.classes = classes
        self.logvar_min, self.logvar_max = logvar_min, logvar_max
        self.encoder = Encoder(features, classes, hidden, latent)
        self.decoder = Decoder(latent, classes, hidden, features)

    def forward(self, x, y, eps, beta=1.0):
        c = F.one_hot(y, self.classes).float()
        mu, logvar = self.encoder(x, c)
        logvar = logvar.clamp(self.logvar_min, self.logvar_max)
        z = mu + torch.exp(0.5 * logvar) * eps
        x_logits = self.decoder(z, c)
        loss_recon = F.binary_cross_entropy_with_logits(x_logits, x.flatten(1), reduction="none").sum(1)
        loss_kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        loss = (loss_recon + beta * loss_kl).mean()
        return dict(mu=mu, logvar=logvar, z=z, x_logits=x_logits, loss_recon=loss_recon, loss_kl=loss_kl, loss=loss)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def write_fixture(path, script, config, model, x, y, eps, out):
    """Writes what a C++ twin test reads: parameters, inputs, outputs and gradients (after backward)."""
    fixture = {
        "about": "made by %s (PyTorch %s); float32 throughout" % (script, torch.__version__),
        "config": config,
        "params": {n: {"shape": list(p.shape), "data": flat(p)} for n, p in model.named_parameters()},
        "inputs": {"x": flat(x), "y": y.tolist(), "eps": flat(eps)},
        "expected": {k: flat(v) for k, v in out.items()},
        "grads": {n: flat(p.grad) for n, p in model.named_parameters()},
    }
    with open(path, "w") as f:
        json.dump(fixture, f, indent=1)
    print("wrote", path, "loss", float(out["loss"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20240)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    shape, classes, hidden, latent, batch, beta = [1, 2, 3], 3, [5, 4], 2, 4, 0.7
    features = 6
    model = CVAE(features, classes, hidden, latent)
    # Push one logvar bias far out so the clamp is exercised on one dimension.
    with torch.no_grad():
        model.encoder.logvar_head.bias[1] = -14.0
    x = torch.rand(batch, *shape)
    x[0, 0, 0, 0] = 0.0
    x[1, 0, 1, 2] = 1.0
    y = torch.tensor([0, 2, 1, 2])
    eps = torch.randn(batch, latent)
    out = model(x, y, eps, beta)
    out["loss"].backward()
    config = {"input_shape": shape, "classes": classes, "hidden": hidden, "latent": latent,
              "logvar_min": -10.0, "logvar_max": 10.0, "beta": beta}
    write_fixture(args.out, "tests/reference/twin.py", config, model, x, y, eps, out)


if __name__ == "__main__":
    main()
