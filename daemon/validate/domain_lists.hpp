#pragma once
// Lists of domains (throwaway, spam, allowed, free mail) and of role mailbox names, read from text files (one
// entry per line, '#' comments) or from YAML, and matched on a domain and its parents up to the registrable
// domain: listing "mailinator.com" also catches "x.mailinator.com", never "com".
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace leadrelay::validate {

class NameSet {
 public:
  // Adds every entry of a list file's text; returns how many.
  std::size_t add_text(std::string_view text);
  // Reads a list file; false with a message naming the file.
  bool add_file(const std::filesystem::path& file, std::string& error);
  void add(std::string_view name);
  bool contains(std::string_view name) const;
  std::size_t size() const { return names_.size(); }

  // True when `domain` or one of its parents down to `registrable` is listed; returns the listed entry.
  bool matches_domain(std::string_view domain, std::string_view registrable, std::string* entry = nullptr) const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_set<std::string, Hash, std::equal_to<>> names_;
};

// The lists shipped with this version (deploy/lists/, compiled in): the defaults when the config names no file.
std::string_view builtin_disposable_domains();
std::string_view builtin_free_mail_domains();
std::string_view builtin_role_mailboxes();

}  // namespace leadrelay::validate
