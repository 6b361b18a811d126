// Entry point of `weftctl lab ...`: the local lab (see README.md beside this file).
#pragma once

namespace weft::lab {

// argv[0] is "lab"; argv[1] the subcommand (up, down, status, exec, label, apply, help).
// Returns the exit status: 0 on success, 1 with a one-line reason on stderr otherwise
// (`lab exec` returns the command's own status).
int RunLabCommand(int argc, char** argv);

}  // namespace weft::lab
