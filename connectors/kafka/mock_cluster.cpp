#include "connectors/kafka/mock_cluster.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>
#include <iostream>
#include <thread>

#include "daemon/log/log.hpp"

namespace leadrelay::connectors::kafka {

std::unique_ptr<MockCluster> MockCluster::create(int brokers, std::string& error) {
  std::unique_ptr<MockCluster> m(new MockCluster());
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // A handle of its own owns the cluster; the mock brokers serve any client that connects to them.
  rd_kafka_conf_set(conf, "client.id", "leadrelay-mock-cluster", errstr, sizeof errstr);
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  m->handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (m->handle_ == nullptr) {
    error = std::string("cannot start the embedded Kafka cluster: ") + errstr;
    return nullptr;
  }
  m->cluster_ = rd_kafka_mock_cluster_new(m->handle_, brokers);
  if (m->cluster_ == nullptr) {
    error = "cannot start the embedded Kafka cluster";
    return nullptr;
  }
  m->brokers_ = brokers;
  m->bootstrap_ = rd_kafka_mock_cluster_bootstraps(m->cluster_);
  return m;
}

MockCluster::~MockCluster() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_ != nullptr) rd_kafka_destroy(handle_);
}

void MockCluster::fail_produce_requests(int count) {
  // NOT_ENOUGH_REPLICAS is retriable: the producer sends the same batch again (same sequence numbers).
  std::vector<rd_kafka_resp_err_t> errors(static_cast<std::size_t>(count), RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
  rd_kafka_mock_push_request_errors_array(cluster_, 0 /* Produce */, errors.size(), errors.data());
}

void MockCluster::set_up(bool up) {
  for (int id = 1; id <= brokers_; ++id) {
    if (up) {
      rd_kafka_mock_broker_set_up(cluster_, id);
    } else {
      rd_kafka_mock_broker_set_down(cluster_, id);
    }
  }
}

namespace {

// Copies bytes both ways between two sockets until either side closes.
void pipe_both_ways(int a, int b) {
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  char buf[65536];
  for (;;) {
    if (poll(fds, 2, -1) < 0) break;
    bool closed = false;
    for (int i = 0; i < 2 && !closed; ++i) {
      if (fds[i].revents == 0) continue;
      const auto n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        closed = true;
        break;
      }
      for (ssize_t sent = 0; sent < n;) {
        const auto w = write(fds[1 - i].fd, buf + sent, static_cast<std::size_t>(n - sent));
        if (w <= 0) {
          closed = true;
          break;
        }
        sent += w;
      }
    }
    if (closed) break;
  }
  close(a);
  close(b);
}

// Listens on 127.0.0.1:port and forwards each connection to `target` ("127.0.0.1:PORT"). Returns false when the
// port cannot be bound.
bool start_forwarder(int port, const std::string& target, std::string& error) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listener, 64) != 0) {
    error = "cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno);
    close(listener);
    return false;
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(std::stoi(target.substr(target.rfind(':') + 1))));
  inet_pton(AF_INET, target.substr(0, target.rfind(':')).c_str(), &to.sin_addr);
  // A development tool: a thread per connection is plenty, and the threads end with the process.
  std::thread([listener, to] {
    for (;;) {
      const int client = accept(listener, nullptr, nullptr);
      if (client < 0) continue;
      const int upstream = socket(AF_INET, SOCK_STREAM, 0);
      if (connect(upstream, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
        close(client);
        close(upstream);
        continue;
      }
      std::thread(pipe_both_ways, client, upstream).detach();
    }
  }).detach();
  return true;
}

}  // namespace

int run_dev_broker(int brokers, int port, int produce_errors) {
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGTERM, SIGINT, SIGUSR1, SIGUSR2}) sigaddset(&signals, s);
  // Blocked before librdkafka starts its threads, so they inherit the mask and sigwait() below gets them all.
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::string error;
  auto cluster = MockCluster::create(brokers, error);
  if (!cluster) {
    std::cerr << "leadrelay dev-broker: " << error << "\n";
    return 69;
  }
  if (produce_errors > 0) cluster->fail_produce_requests(produce_errors);
  std::string bootstrap = cluster->bootstrap();
  if (port > 0) {
    const auto first = bootstrap.substr(0, bootstrap.find(','));
    if (!start_forwarder(port, first, error)) {
      std::cerr << "leadrelay dev-broker: " << error << "\n";
      return 69;
    }
    bootstrap = "127.0.0.1:" + std::to_string(port);
  }
  std::cout << bootstrap << std::endl;
  log::info("dev_broker_ready", {log::safe("bootstrap", bootstrap), log::safe("brokers_at", cluster->bootstrap()),
                                 {"brokers", brokers}});
  for (;;) {
    int signo = 0;
    sigwait(&signals, &signo);
    if (signo == SIGUSR1) {
      cluster->set_up(false);
      log::info("dev_broker_down");
    } else if (signo == SIGUSR2) {
      cluster->set_up(true);
      log::info("dev_broker_up");
    } else {
      log::info("dev_broker_stopping");
      return 0;
    }
  }
}

}  // namespace leadrelay::connectors::kafka
