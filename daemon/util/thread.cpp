#include "daemon/util/thread.hpp"

#include <sched.h>

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <string>

namespace leadrelay::util {

void name_this_thread(std::string_view name) {
  const std::string truncated(name.substr(0, 15));
  pthread_setname_np(pthread_self(), truncated.c_str());
}

namespace {
std::atomic<int> background_nice{0};
std::atomic<bool> background_idle{false};
}  // namespace

void set_background_priority(int steps, bool idle) {
  background_nice.store(steps);
  background_idle.store(idle);
}

void enter_background() {
  if (background_idle.load()) {
    // On Linux the policy is per thread: 0 names the calling thread. Errors are ignored, as for the nice value.
    const sched_param none{};
    sched_setscheduler(0, SCHED_IDLE, &none);
  }
  lower_this_thread(background_nice.load());
}

void lower_this_thread(int steps) {
  if (steps <= 0) return;
  // On Linux, nice values are per thread: PRIO_PROCESS with a thread id changes only that thread.
  const auto tid = static_cast<id_t>(gettid());
  const int current = getpriority(PRIO_PROCESS, tid);
  setpriority(PRIO_PROCESS, tid, current + steps);
}

std::thread background_thread(std::string_view name, std::function<void()> body) {
  return std::thread([name = std::string(name), body = std::move(body)] {
    name_this_thread(name);
    enter_background();
    body();
  });
}

}  // namespace leadrelay::util
