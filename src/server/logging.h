// spdlog set up for a server: one logger on stderr (stdout stays free for tools), level from the config.
#pragma once

#include <string>

namespace atrium::server {

// `level` is one validate_config accepts (trace ... off).
void init_logging(const std::string& level);

}  // namespace atrium::server
