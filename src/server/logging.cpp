#include "server/logging.h"

#include <memory>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace atrium::server {

void init_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("atrium");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%t] %v");
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::info);  // a crash or kill should not eat the last lines
}

}  // namespace atrium::server
