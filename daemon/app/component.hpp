#pragma once
// The daemon's parts, one shape each (as userver's component list or Envoy's server bootstrap): run_daemon starts
// them in list order, offers each a reload, and stops them in reverse order once intake has drained. Adding a
// capability is one Component and one line in the list; the graceful-stop order follows from the list.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/app/config.hpp"

namespace leadrelay::app {

struct Services;

class Component {
 public:
  virtual ~Component() = default;
  virtual std::string_view name() const = 0;
  // Starts the part; false (having logged why) with the exit code the daemon ends with (sysexits.h, see run.hpp).
  virtual bool start(Services& services, int& exit_code) = 0;
  // A reload's new configuration, already checked whole; apply what can change while running.
  virtual void reload(Services&, const Config&) {}
  // Called in reverse start order after intake has stopped: finish, flush and release.
  virtual void stop(Services&) {}
};

// The components of a running daemon, in start order: the store, then what delivers (Kafka, DNS, sinks, the
// pipeline that feeds them), then what receives (the intake listener, the admin listener), and last the service
// manager's signals and notifications.
std::vector<std::unique_ptr<Component>> daemon_components();

}  // namespace leadrelay::app
