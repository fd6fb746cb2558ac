// Atomic file output: write to a temporary file beside the target, flush and
// fsync it, then rename over the target. A crash, a kill or a full disk leaves
// either the old file or the new one, never a half-written one.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace cvae::core {

// Calls fill(out) on a stream into a temporary file, then renames it to path.
// Throws IoError naming the path and the system's reason when anything fails;
// the temporary file is removed and an existing file at path is left untouched.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& fill);

// Convenience: the whole content at once.
void write_file_atomic(const std::string& path, const std::string& bytes);

// Creates the directories above path (e.g. models/ for models/m.cvae); IoError when it cannot.
void create_parent_dirs(const std::string& path);

// Reads a whole file into memory; throws DataError naming the path when it cannot.
std::string read_file(const std::string& path);

// True when path exists (any type).
bool path_exists(const std::string& path);

}  // namespace cvae::core
