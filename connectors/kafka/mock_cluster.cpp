#include "connectors/kafka/mock_cluster.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>

#include <iostream>

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

void MockCluster::set_up(bool up) {
  for (int id = 1; id <= brokers_; ++id) {
    if (up) {
      rd_kafka_mock_broker_set_up(cluster_, id);
    } else {
      rd_kafka_mock_broker_set_down(cluster_, id);
    }
  }
}

int run_dev_broker(int brokers) {
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
  std::cout << cluster->bootstrap() << std::endl;
  log::info("dev_broker_ready", {log::safe("bootstrap", cluster->bootstrap()), {"brokers", brokers}});
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
