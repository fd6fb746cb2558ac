// How the command-line programs report an error that ends them.
#pragma once

namespace cvae::core {

// Call inside a catch block: prints "error: ..." for the exception being handled
// and returns the exit status: 1 for cvae's own errors (cvae/errors.h) and for
// running out of memory, 3 for anything else (an internal error).
int report_exception();

}  // namespace cvae::core
