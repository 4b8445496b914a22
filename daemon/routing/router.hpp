#pragma once
// Routes: an ordered list of named rules an admin writes in YAML. Each rule's `when:` matches normalized lead
// fields (with all / any / not), and names destinations (`to:`) or drops the lead (`drop: reason`). The first
// matching rule wins unless it says `continue: true`. Parsed and checked once into an immutable RouteTable;
// route() only reads it.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config/yaml_reader.hpp"
#include "daemon/model/lead.hpp"

namespace leadrelay::routing {

struct Destination {
  enum class Kind { Kafka, Sink };
  Kind kind = Kind::Kafka;
  std::string name;  // Kafka: the topic; Sink: the sink's name (sinks[].name)
  // "kafka:leads.all", "sink:crm": how deliveries name their destination in the outbox.
  std::string id() const;
};

struct FieldSpec;

struct Condition {
  enum class Op { All, Any, Not, Field };
  Op op = Op::All;
  std::vector<Condition> children;
  const FieldSpec* field = nullptr;
  std::vector<std::string> values;  // any of them matches (globs for glob fields)
  bool flag = false;                // boolean fields
};

struct Rule {
  std::string name;
  int line = 0;
  bool has_when = false;
  Condition when;
  std::vector<Destination> to;
  bool drop = false;
  std::string drop_reason;
  bool continue_matching = false;
};

struct RouteTable {
  std::vector<Rule> rules;
  // Every distinct destination the rules name, in first-use order.
  std::vector<Destination> destinations;
};

struct RouteContext {
  std::vector<std::string> source_names;
  std::vector<std::string> sink_names;
  bool kafka_configured = false;
};

RouteTable parse_routes(config::Diagnostics& diagnostics, const YAML::Node& node, const RouteContext& context);

struct Decision {
  std::vector<const Destination*> destinations;  // distinct, in rule order
  std::vector<std::string_view> matched_rules;
  bool dropped = false;
  std::string_view drop_rule;
  std::string_view drop_reason;
  bool unrouted() const { return !dropped && destinations.empty(); }
};

Decision route(const RouteTable& table, const model::Lead& lead);

// A `when:` map on its own, for other rules over leads (notifications), and whether a lead meets it.
Condition parse_condition(config::Diagnostics& diagnostics, const YAML::Node& node, const std::string& path,
                          const RouteContext& context);
bool matches(const Condition& condition, const model::Lead& lead);

// The names a `when:` may test, for messages and documentation.
std::vector<std::string_view> field_names();
std::span<const config::KeySpec> rule_keys();

}  // namespace leadrelay::routing
