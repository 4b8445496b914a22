#pragma once
// What a notification says: its subject, plain text and HTML, rendered from its document (daemon/notify/document.hpp)
// with Mustache templates (kainjow::mustache). The defaults are built in (connectors/notify/templates/); an admin
// may replace any of them with a file of the same name in `notifications.templates_dir`. Two sets: `lead` (new_lead,
// hot and expiring messages about one lead) and `digest`. Values reach the HTML escaped, the text and subject as
// they are.
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace leadrelay::connectors::notify {

struct Message {
  std::string kind;  // new_lead, hot, expiring, digest
  std::string subject, text, html;
  std::vector<std::string> to;
};

// The kind of a notification from its outbox key ("new_lead|rule|lead-id" -> "new_lead").
std::string_view kind_of_key(std::string_view key);

class Templates {
 public:
  // The built-in templates, each replaced by `<set>.<part>.mustache` from `dir` when that file exists (empty dir:
  // none). Null with a message naming the file when one cannot be read or is not a valid template.
  static std::shared_ptr<const Templates> load(const std::string& dir, std::string& error);
  ~Templates();

  // Renders `document` as a message of `kind`; false with a message when the document is not one.
  bool render(std::string_view kind, std::string_view document, Message& out, std::string& error) const;

 private:
  struct Set;
  Templates();
  std::unique_ptr<Set> lead_, digest_;
  mutable std::mutex mutex_;
};

}  // namespace leadrelay::connectors::notify
