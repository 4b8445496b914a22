#include "daemon/routing/router.hpp"

#include <fnmatch.h>

#include <algorithm>

#include "connectors/source_formats.hpp"
#include "daemon/model/country.hpp"
#include "daemon/util/strings.hpp"

namespace leadrelay::routing {

enum class FieldKind { Glob, Enum, Country, Bool };

struct FieldSpec {
  std::string_view name;
  FieldKind kind;
  std::string_view description;
  std::string (*text)(const model::Lead&);  // Glob, Enum, Country
  bool (*flag)(const model::Lead&);         // Bool
  std::vector<std::string_view> (*choices)();
};

namespace {
using config::KeySpec;
using config::KeyType;

std::vector<std::string_view> origins() { return {"AzureMarketplace", "AzurePortal", "AppSource", "TestDrive", "Unknown"}; }
std::vector<std::string_view> email_verdicts() { return {"Valid", "Invalid", "Spam", "Unknown"}; }
std::vector<std::string_view> phone_verdicts() { return {"Valid", "Invalid", "Unknown"}; }
std::vector<std::string_view> qualities() { return {"High", "Low"}; }
std::vector<std::string_view> phone_types() {
  return {"mobile", "fixed_line", "fixed_line_or_mobile", "toll_free", "premium_rate", "shared_cost", "voip",
          "personal_number", "pager", "uan", "voicemail", "unknown"};
}
std::vector<std::string_view> lead_types() { return {"offer", "profile"}; }
std::vector<std::string_view> classifications() {
  return {"customer_inquiry", "marketing_qualified", "sales_qualified"};
}
std::vector<std::string_view> ctas() {
  return {"GetItNowOrFreeTrial", "ContactMe", "None", "GetItNow", "TestDrive", "Unknown"};
}

const FieldSpec kFields[] = {
    {"source", FieldKind::Glob, "the config's source name", [](const model::Lead& l) { return l.source_name; }, nullptr, nullptr},
    {"format", FieldKind::Enum, "the source's format", [](const model::Lead& l) { return l.format; }, nullptr,
     &connectors::format_names},
    {"origin", FieldKind::Enum, "where in the marketplace the lead came from",
     [](const model::Lead& l) { return std::string(model::to_string(l.origin)); }, nullptr, &origins},
    {"action", FieldKind::Glob, "the action code (INS, PLT, DNC, Create, StartTestDrive)",
     [](const model::Lead& l) { return l.action.code; }, nullptr, nullptr},
    {"call_to_action", FieldKind::Enum, "what the customer pressed",
     [](const model::Lead& l) { return std::string(model::to_string(l.action.call_to_action)); }, nullptr, &ctas},
    {"offer", FieldKind::Glob, "publisherid.offerid", [](const model::Lead& l) { return l.offer.id; }, nullptr, nullptr},
    {"publisher", FieldKind::Glob, "the publisher id", [](const model::Lead& l) { return l.offer.publisher_id; }, nullptr,
     nullptr},
    {"offer_id", FieldKind::Glob, "the offer id", [](const model::Lead& l) { return l.offer.offer_id; }, nullptr, nullptr},
    {"country", FieldKind::Country, "ISO 3166-1 alpha-2 codes", [](const model::Lead& l) { return l.contact.country; },
     nullptr, nullptr},
    {"test_lead", FieldKind::Bool, "the marketplace's validation lead", nullptr,
     [](const model::Lead& l) { return l.test_lead; }, nullptr},
    {"contactable", FieldKind::Bool, "has an email or a phone", nullptr,
     [](const model::Lead& l) { return l.contactable; }, nullptr},
    {"partner_action_required", FieldKind::Bool, "Contact me: accept or decline within 14 days", nullptr,
     [](const model::Lead& l) { return l.action.partner_action_required; }, nullptr},
    {"hot", FieldKind::Bool, "the customer asked to be contacted, within lifecycle.hot_window of its arrival", nullptr,
     [](const model::Lead& l) { return l.hot; }, nullptr},
    {"requested_contact", FieldKind::Bool,
     "the customer asked to be called directly (a referral's customerRequestedContact), not only pressed Contact me",
     nullptr, [](const model::Lead& l) { return l.referral.customer_requested_contact; }, nullptr},
    {"lead_type", FieldKind::Enum, "offer (a marketplace offer) or profile (the business profile)",
     [](const model::Lead& l) { return std::string(model::to_string(l.lead_type)); }, nullptr, &lead_types},
    {"classification", FieldKind::Enum, "customer_inquiry, marketing_qualified or sales_qualified",
     [](const model::Lead& l) { return std::string(model::to_string(l.classification)); }, nullptr,
     &classifications},
    {"program", FieldKind::Glob, "the qualified referral program, when the source names one",
     [](const model::Lead& l) { return l.program; }, nullptr, nullptr},
    {"do_not_contact", FieldKind::Bool, "DNC: do not reach out", nullptr,
     [](const model::Lead& l) { return l.action.do_not_contact; }, nullptr},
    {"duplicate", FieldKind::Bool, "a later lead of the same person for the same offer within the window", nullptr,
     [](const model::Lead& l) { return !l.duplicate_of.empty(); }, nullptr},
    {"email_verdict", FieldKind::Enum, "the email's verdict", [](const model::Lead& l) { return l.email_check.verdict; },
     nullptr, &email_verdicts},
    {"email_domain", FieldKind::Glob, "the email's registrable domain (A-label)",
     [](const model::Lead& l) { return l.email_check.domain; }, nullptr, nullptr},
    {"role_mailbox", FieldKind::Bool, "a role address such as info@ or sales@", nullptr,
     [](const model::Lead& l) { return l.email_check.role_mailbox; }, nullptr},
    {"free_mail", FieldKind::Bool, "an address at a free-mail provider", nullptr,
     [](const model::Lead& l) { return l.email_check.free_mail; }, nullptr},
    {"phone_verdict", FieldKind::Enum, "the phone number's verdict",
     [](const model::Lead& l) { return l.phone_check.verdict; }, nullptr, &phone_verdicts},
    {"phone_type", FieldKind::Enum, "mobile, fixed_line, ... (valid numbers only)",
     [](const model::Lead& l) { return l.phone_check.type; }, nullptr, &phone_types},
    {"quality", FieldKind::Enum, "the lead's quality (High, or Low with quality_reasons)",
     [](const model::Lead& l) { return l.quality; }, nullptr, &qualities},
};

constexpr KeySpec kRuleKeys[] = {
    {"name", KeyType::String, "", "the rule's name, in logs and metrics", true},
    {"when", KeyType::Section, "",
     "the condition: field: value (or a list of values, any of which matches), combined with all / any / not; "
     "without it the rule matches every lead"},
    {"to", KeyType::SectionList, "", "destinations: {kafka: <topic>} or {sink: <name of a sinks[] entry>}"},
    {"drop", KeyType::String, "", "drop matching leads, with this reason (counted and logged, never published)"},
    {"continue", KeyType::Boolean, "false", "also try the rules below after this one matched"},
};

const FieldSpec* find_field(std::string_view name) {
  for (const auto& f : kFields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool valid_topic(std::string_view t) {
  if (t.empty() || t.size() > 249 || t == "." || t == "..") return false;
  return std::all_of(t.begin(), t.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

bool has_glob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

class ConditionParser {
 public:
  ConditionParser(config::Diagnostics& d, const RouteContext& c) : diagnostics_(d), context_(c) {}

  // A map: each key is a field or all / any / not; several keys must all hold.
  Condition parse(const YAML::Node& node, const std::string& path) {
    Condition all;
    all.op = Condition::Op::All;
    if (!node.IsMap()) {
      diagnostics_.add(node.Mark(), path, "expected a map of conditions, such as {call_to_action: ContactMe}");
      return all;
    }
    if (node.size() == 0) diagnostics_.add(node.Mark(), path, "an empty condition; remove 'when' to match every lead");
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      const std::string name = key.IsScalar() ? key.Scalar() : "";
      const std::string child_path = path + "." + name;
      if (name == "all" || name == "any") {
        Condition group;
        group.op = name == "all" ? Condition::Op::All : Condition::Op::Any;
        if (!value.IsSequence() || value.size() == 0) {
          diagnostics_.add(value.Mark(), child_path, "expected a non-empty list of conditions");
        } else {
          for (std::size_t i = 0; i < value.size(); ++i) {
            group.children.push_back(parse(value[i], child_path + "[" + std::to_string(i) + "]"));
          }
        }
        all.children.push_back(std::move(group));
      } else if (name == "not") {
        Condition negation;
        negation.op = Condition::Op::Not;
        negation.children.push_back(parse(value, child_path));
        all.children.push_back(std::move(negation));
      } else if (const auto* field = find_field(name)) {
        all.children.push_back(parse_field(*field, value, child_path));
      } else {
        auto names = field_names();
        names.insert(names.end(), {"all", "any", "not"});
        const auto suggestion = util::closest_match(name, names);
        diagnostics_.add(key.Mark(), child_path,
                         "unknown field '" + name + "'" +
                             (suggestion.empty() ? "; fields are " + util::join_choices(names)
                                                 : "; did you mean '" + std::string(suggestion) + "'?"));
      }
    }
    return all;
  }

 private:
  Condition parse_field(const FieldSpec& field, const YAML::Node& value, const std::string& path) {
    Condition c;
    c.op = Condition::Op::Field;
    c.field = &field;
    if (field.kind == FieldKind::Bool) {
      if (!value.IsScalar() || (value.Scalar() != "true" && value.Scalar() != "false")) {
        diagnostics_.add(value.Mark(), path, "expected true or false");
      } else {
        c.flag = value.Scalar() == "true";
      }
      return c;
    }
    std::vector<YAML::Node> items;
    if (value.IsScalar()) {
      items.push_back(value);
    } else if (value.IsSequence()) {
      for (std::size_t i = 0; i < value.size(); ++i) items.push_back(value[i]);
      if (items.empty()) diagnostics_.add(value.Mark(), path, "an empty list matches no lead; remove the rule or add values");
    } else {
      diagnostics_.add(value.Mark(), path, "expected a value or a list of values");
      return c;
    }
    for (const auto& item : items) {
      if (!item.IsScalar()) {
        diagnostics_.add(item.Mark(), path, "expected a string");
        continue;
      }
      auto text = item.Scalar();
      if (field.kind == FieldKind::Enum) {
        const auto choices = field.choices();
        if (std::find(choices.begin(), choices.end(), text) == choices.end()) {
          const auto suggestion = util::closest_match(text, choices);
          diagnostics_.add(item.Mark(), path,
                           "'" + text + "' is never a " + std::string(field.name) + " value" +
                               (suggestion.empty() ? "; expected " + util::join_choices(choices)
                                                   : "; did you mean '" + std::string(suggestion) + "'?"));
        }
      } else if (field.kind == FieldKind::Country) {
        const auto code = model::country_alpha2(text);
        if (code.empty()) {
          diagnostics_.add(item.Mark(), path, "'" + text + "' is not a country; use ISO 3166-1 alpha-2 codes such as US");
        } else if (code != text) {
          diagnostics_.add(item.Mark(), path, "write countries as ISO 3166-1 alpha-2 codes: use '" + std::string(code) +
                                                  "' for '" + text + "'");
        }
      } else if (field.name == "source" && !has_glob(text) &&
                 std::find(context_.source_names.begin(), context_.source_names.end(), text) ==
                     context_.source_names.end()) {
        std::vector<std::string_view> names(context_.source_names.begin(), context_.source_names.end());
        const auto suggestion = util::closest_match(text, names);
        diagnostics_.add(item.Mark(), path,
                         "no source is named '" + text + "'" +
                             (suggestion.empty() ? "" : "; did you mean '" + std::string(suggestion) + "'?"));
      }
      c.values.push_back(std::move(text));
    }
    return c;
  }

  config::Diagnostics& diagnostics_;
  const RouteContext& context_;
};

bool holds(const Condition& c, const model::Lead& lead) {
  switch (c.op) {
    case Condition::Op::All:
      return std::all_of(c.children.begin(), c.children.end(), [&](const Condition& x) { return holds(x, lead); });
    case Condition::Op::Any:
      return std::any_of(c.children.begin(), c.children.end(), [&](const Condition& x) { return holds(x, lead); });
    case Condition::Op::Not:
      return !holds(c.children.front(), lead);
    case Condition::Op::Field:
      break;
  }
  if (c.field->kind == FieldKind::Bool) return c.field->flag(lead) == c.flag;
  const auto value = c.field->text(lead);
  for (const auto& v : c.values) {
    if (c.field->kind == FieldKind::Glob) {
      if (fnmatch(v.c_str(), value.c_str(), FNM_CASEFOLD) == 0) return true;
    } else if (v == value) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool matches(const Condition& condition, const model::Lead& lead) { return holds(condition, lead); }

Condition parse_condition(config::Diagnostics& diagnostics, const YAML::Node& node, const std::string& path,
                          const RouteContext& context) {
  return ConditionParser(diagnostics, context).parse(node, path);
}

std::string Destination::id() const { return (kind == Kind::Kafka ? "kafka:" : "sink:") + name; }

std::vector<std::string_view> field_names() {
  std::vector<std::string_view> out;
  for (const auto& f : kFields) out.push_back(f.name);
  return out;
}

std::span<const KeySpec> rule_keys() { return kRuleKeys; }

RouteTable parse_routes(config::Diagnostics& diagnostics, const YAML::Node& node, const RouteContext& context) {
  RouteTable table;
  if (!node.IsDefined() || node.IsNull()) return table;
  if (!node.IsSequence()) {
    diagnostics.add(node.Mark(), "routes", "expected a list of rules (each item starts with '- name:')");
    return table;
  }
  ConditionParser conditions(diagnostics, context);
  std::size_t catch_all = std::string::npos;  // an index: table.rules still grows
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string path = "routes[" + std::to_string(i) + "]";
    config::MapReader r(diagnostics, node[i], path, kRuleKeys);
    Rule rule;
    rule.name = r.string("name");
    rule.line = r.mark().line + 1;
    rule.continue_matching = r.boolean("continue");
    for (const auto& other : table.rules) {
      if (r.has("name") && other.name == rule.name) r.error("name", "another rule is already named '" + rule.name + "'");
    }
    if (r.has("when")) {
      rule.has_when = true;
      rule.when = conditions.parse(r.child("when"), r.path_of("when"));
    }
    rule.drop = r.has("drop");
    rule.drop_reason = r.string("drop");
    if (rule.drop && r.has("to")) r.error("drop", "a rule either drops leads or sends them somewhere: remove 'to' or 'drop'");
    if (!rule.drop && !r.has("to")) r.error(r.has("name") ? "name" : "to", "needs 'to: [...]' or 'drop: <reason>'");
    if (rule.drop && rule.continue_matching) r.error("continue", "a dropped lead goes no further: remove 'continue'");
    if (r.has("to")) {
      const auto to = r.child("to");
      if (!to.IsSequence() || to.size() == 0) {
        r.error("to", "expected a non-empty list of destinations, such as [{kafka: leads.all}]");
      } else {
        for (std::size_t j = 0; j < to.size(); ++j) {
          const auto item_path = r.path_of("to") + "[" + std::to_string(j) + "]";
          const auto& item = to[j];
          if (item.IsMap() && item.size() == 1 && item.begin()->first.Scalar() == "kafka") {
            const auto topic = item.begin()->second.IsScalar() ? item.begin()->second.Scalar() : std::string();
            if (!valid_topic(topic)) {
              diagnostics.add(item.Mark(), item_path,
                              "'" + topic + "' is not a valid Kafka topic; use 1-249 of a-z, A-Z, 0-9, '.', '_' and '-'");
            } else if (!context.kafka_configured) {
              diagnostics.add(item.Mark(), item_path, "routes to Kafka, but there is no 'kafka:' section with brokers");
            }
            rule.to.push_back(Destination{Destination::Kind::Kafka, topic});
          } else if (item.IsMap() && item.size() == 1 && item.begin()->first.Scalar() == "sink") {
            const auto name = item.begin()->second.IsScalar() ? item.begin()->second.Scalar() : std::string();
            const auto& names = context.sink_names;
            if (std::find(names.begin(), names.end(), name) == names.end()) {
              std::vector<std::string_view> choices(names.begin(), names.end());
              const auto hint = util::closest_match(name, choices);
              diagnostics.add(item.Mark(), item_path,
                              "no sink named '" + name + "'" +
                                  (!hint.empty() ? "; did you mean '" + std::string(hint) + "'?"
                                   : names.empty() ? "; declare it under 'sinks:'"
                                                   : "; sinks are " + util::join_choices(choices)));
            }
            rule.to.push_back(Destination{Destination::Kind::Sink, name});
          } else {
            const std::string what = item.IsScalar() ? "'" + item.Scalar() + "'" : "this destination";
            diagnostics.add(item.Mark(), item_path,
                            "unknown destination " + what + "; write {kafka: <topic>} or {sink: <name>}");
          }
        }
      }
    }
    if (catch_all != std::string::npos) {
      const auto& earlier = table.rules[catch_all];
      r.error("name", "rule '" + rule.name + "' can never match: rule '" + earlier.name + "' (line " +
                          std::to_string(earlier.line) + ") matches every lead and does not continue");
    }
    if (!rule.has_when && !rule.continue_matching && catch_all == std::string::npos) catch_all = table.rules.size();
    table.rules.push_back(std::move(rule));
  }
  // Pointers into table.rules are taken only after it stops growing.
  for (const auto& rule : table.rules) {
    for (const auto& d : rule.to) {
      const auto same = [&](const Destination& x) { return x.id() == d.id(); };
      if (std::none_of(table.destinations.begin(), table.destinations.end(), same)) table.destinations.push_back(d);
    }
  }
  return table;
}

Decision route(const RouteTable& table, const model::Lead& lead) {
  Decision decision;
  for (const auto& rule : table.rules) {
    if (rule.has_when && !matches(rule.when, lead)) continue;
    decision.matched_rules.push_back(rule.name);
    if (rule.drop) {
      decision.dropped = true;
      decision.drop_rule = rule.name;
      decision.drop_reason = rule.drop_reason;
      decision.destinations.clear();
      return decision;
    }
    for (const auto& d : rule.to) {
      const auto same = [&](const Destination* x) { return x->id() == d.id(); };
      if (std::none_of(decision.destinations.begin(), decision.destinations.end(), same)) {
        decision.destinations.push_back(&d);
      }
    }
    if (!rule.continue_matching) break;
  }
  return decision;
}

}  // namespace leadrelay::routing
