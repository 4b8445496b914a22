#pragma once
// librdkafka's built-in mock Kafka cluster: real Kafka protocol over TCP on loopback, messages kept in memory.
// For local runs (`kafka.brokers: embedded`) and tests (`leadrelay dev-broker`); never for production.
#include <memory>
#include <string>

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace leadrelay::connectors::kafka {

class MockCluster {
 public:
  static std::unique_ptr<MockCluster> create(int brokers, std::string& error);
  ~MockCluster();
  // The bootstrap address list, "127.0.0.1:PORT,...".
  const std::string& bootstrap() const { return bootstrap_; }
  // Takes every broker down (connections closed, new ones refused) or brings them back, on the same addresses.
  void set_up(bool up);
  // The next `count` produce requests fail with a retriable error (retry drills).
  void fail_produce_requests(int count);

 private:
  MockCluster() = default;
  rd_kafka_s* handle_ = nullptr;
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  int brokers_ = 0;
  std::string bootstrap_;
};

// `leadrelay dev-broker`: runs a mock cluster as its own process until SIGTERM/SIGINT. Prints the bootstrap
// address on stdout; SIGUSR1 takes the brokers down and SIGUSR2 brings them back (outage drills).
// librdkafka 2.0's mock brokers listen on ports the kernel picks; with `port` > 0 a fixed bootstrap address
// 127.0.0.1:port forwards to the first broker, and clients then reach every broker through the metadata.
// With `produce_errors` > 0 the first that many produce requests fail with a retriable error.
int run_dev_broker(int brokers, int port, int produce_errors = 0);

}  // namespace leadrelay::connectors::kafka
