// Typed errors thrown by the library. The CLI turns them into
// "error: <what> (<got> vs <expected>)" messages and a non-zero exit code.
#pragma once

#include <stdexcept>
#include <string>

namespace cvae {

// Base of every error the library throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A data file is missing, corrupt, truncated or of the wrong shape.
class DataError : public Error {
 public:
  using Error::Error;
};

// An option or config value is out of range or inconsistent.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// A model file is missing, truncated, corrupt or from another program.
class CheckpointError : public Error {
 public:
  using Error::Error;
};

// Training produced a NaN or Inf.
class NumericError : public Error {
 public:
  using Error::Error;
};

// Writing an output failed (disk full, permission denied, ...).
class IoError : public Error {
 public:
  using Error::Error;
};

}  // namespace cvae
