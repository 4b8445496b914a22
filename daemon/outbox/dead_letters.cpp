#include "daemon/outbox/dead_letters.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "daemon/log/log.hpp"

namespace leadrelay::outbox {
namespace {
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_fields(Writer& w, const store::DeadLetter& d) {
  w.Key("id");
  w.Int64(d.id);
  w.Key("destination");
  w.String(d.destination.c_str());
  w.Key("lead_id");
  w.String(d.lead_id.c_str());
  w.Key("error");
  w.String(d.error.c_str());
  w.Key("failed_at");
  w.String(log::format_utc_ms(d.failed_at_ms).c_str());
}
}  // namespace

std::string dead_letters_json(store::Reader& store, const store::DeadLetterFilter& filter) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("dead_letters");
  w.StartArray();
  for (const auto& d : store.dead_letters(filter)) {
    w.StartObject();
    write_fields(w, d);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string dead_letter_json(store::Reader& store, std::int64_t id) {
  const auto found = store.dead_letter(id);
  if (!found) return {};
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  write_fields(w, *found);
  w.Key("lead");
  w.RawValue(found->lead_json.data(), found->lead_json.size(), rapidjson::kObjectType);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::int64_t replay_dead_letters(store::Journal& journal, Backlog& backlog, const store::DeadLetterFilter& filter,
                                 std::string& error) {
  std::int64_t count = 0;
  std::int64_t bytes = 0;
  if (!journal.write([&](store::Transaction& tx, std::string& message) {
        return tx.replay_dead_letters(filter, count, bytes, message);
      })) {
    error = "the store refused the replay (see the log)";
    return -1;
  }
  backlog.add(count, bytes);
  return count;
}

}  // namespace leadrelay::outbox
