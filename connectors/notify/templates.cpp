#include "connectors/notify/templates.hpp"

#include <kainjow/mustache.hpp>
#include <rapidjson/document.h>

#include <filesystem>
#include <mutex>
#include <fstream>
#include <sstream>

namespace leadrelay::connectors::notify {
namespace mustache = kainjow::mustache;

// The built-in templates (generated from connectors/notify/templates/ by CMake).
namespace builtin {
extern const char* const kLeadSubject;
extern const char* const kLeadText;
extern const char* const kLeadHtml;
extern const char* const kDigestSubject;
extern const char* const kDigestText;
extern const char* const kDigestHtml;
}  // namespace builtin

struct Templates::Set {
  mustache::mustache subject, text, html;
  Set(const std::string& s, const std::string& t, const std::string& h) : subject(s), text(t), html(h) {
    const auto as_is = [](const std::string& v) { return v; };
    subject.set_custom_escape(as_is);
    text.set_custom_escape(as_is);
  }
};

namespace {

constexpr const char* kParts[] = {"subject", "txt", "html"};

// A JSON value as Mustache data: objects and arrays as they are; strings and numbers as text; empty strings, null
// and false left out, so that `{{#company}}...{{/company}}` shows only what the lead has.
bool to_data(const rapidjson::Value& v, mustache::data& out) {
  if (v.IsObject()) {
    out = mustache::data(mustache::data::type::object);
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      mustache::data child;
      if (to_data(it->value, child)) out.set(std::string(it->name.GetString(), it->name.GetStringLength()), child);
    }
    return true;
  }
  if (v.IsArray()) {
    mustache::data list(mustache::data::type::list);
    for (const auto& item : v.GetArray()) {
      mustache::data child;
      if (to_data(item, child)) list.push_back(child);
    }
    if (list.is_empty_list()) return false;
    out = std::move(list);
    return true;
  }
  if (v.IsString()) {
    if (v.GetStringLength() == 0) return false;
    out = mustache::data(std::string(v.GetString(), v.GetStringLength()));
    return true;
  }
  if (v.IsBool()) {
    if (!v.GetBool()) return false;
    out = mustache::data(mustache::data::type::bool_true);
    return true;
  }
  if (v.IsInt64()) {
    out = mustache::data(std::to_string(v.GetInt64()));
    return true;
  }
  if (v.IsNumber()) {
    std::ostringstream text;
    text << v.GetDouble();
    out = mustache::data(text.str());
    return true;
  }
  return false;
}

bool read_file(const std::filesystem::path& p, std::string& out, std::string& error) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    error = "cannot read " + p.string();
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  out = text.str();
  return true;
}

std::string one_line(std::string s) {
  for (auto& c : s) {
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

std::string_view kind_of_key(std::string_view key) { return key.substr(0, key.find('|')); }

Templates::Templates() = default;
Templates::~Templates() = default;

std::shared_ptr<const Templates> Templates::load(const std::string& dir, std::string& error) {
  std::shared_ptr<Templates> t(new Templates());
  const auto make = [&](const char* set, const char* const defaults[3]) -> std::unique_ptr<Set> {
    std::string texts[3];
    for (int i = 0; i < 3; ++i) {
      texts[i] = defaults[i];
      const auto file = std::filesystem::path(dir) / (std::string(set) + "." + kParts[i] + ".mustache");
      if (!dir.empty() && std::filesystem::exists(file) && !read_file(file, texts[i], error)) return nullptr;
    }
    auto s = std::make_unique<Set>(texts[0], texts[1], texts[2]);
    const mustache::mustache* parts[] = {&s->subject, &s->text, &s->html};
    for (int i = 0; i < 3; ++i) {
      if (!parts[i]->is_valid()) {
        error = std::string(set) + "." + kParts[i] + ".mustache" + (dir.empty() ? " (built in)" : " in " + dir) +
                ": " + parts[i]->error_message();
        return nullptr;
      }
    }
    return s;
  };
  const char* const lead[3] = {builtin::kLeadSubject, builtin::kLeadText, builtin::kLeadHtml};
  const char* const digest[3] = {builtin::kDigestSubject, builtin::kDigestText, builtin::kDigestHtml};
  t->lead_ = make("lead", lead);
  if (!t->lead_) return nullptr;
  t->digest_ = make("digest", digest);
  if (!t->digest_) return nullptr;
  return t;
}

bool Templates::render(std::string_view kind, std::string_view document, Message& out, std::string& error) const {
  rapidjson::Document doc;
  doc.Parse(document.data(), document.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    error = "the notification's document is not a JSON object";
    return false;
  }
  mustache::data data;
  to_data(doc, data);
  const bool digest = kind == "digest";
  for (const char* k : {"new_lead", "hot", "expiring", "digest"}) {
    if (kind == k) data.set(std::string("is_") + k, mustache::data(mustache::data::type::bool_true));
  }
  if (!digest && !(kind == "new_lead" || kind == "hot" || kind == "expiring")) {
    error = "unknown notification kind '" + std::string(kind) + "'";
    return false;
  }
  if (!digest) {
    const auto leads = doc.FindMember("leads");
    if (leads == doc.MemberEnd() || !leads->value.IsArray() || leads->value.Empty()) {
      error = "the notification names no lead";
      return false;
    }
    mustache::data lead;
    to_data(leads->value[0], lead);
    data.set("lead", lead);
  }
  if (const auto to = doc.FindMember("to"); to != doc.MemberEnd() && to->value.IsArray()) {
    for (const auto& a : to->value.GetArray()) {
      if (a.IsString()) out.to.emplace_back(a.GetString(), a.GetStringLength());
    }
  }
  auto& set = digest ? *digest_ : *lead_;
  // Rendering is not const in kainjow::mustache (it records errors): one render at a time.
  std::lock_guard lock(mutex_);
  auto& subject = set.subject;
  auto& text = set.text;
  auto& html = set.html;
  out.kind = std::string(kind);
  out.subject = one_line(subject.render(data));
  data.set("subject", out.subject);
  out.text = text.render(data);
  out.html = html.render(data);
  for (auto* m : {&subject, &text, &html}) {
    if (!m->is_valid()) {
      error = "template: " + m->error_message();
      return false;
    }
  }
  return true;
}

}  // namespace leadrelay::connectors::notify
