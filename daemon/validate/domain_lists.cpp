#include "daemon/validate/domain_lists.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace leadrelay::validate {

std::size_t NameSet::add_text(std::string_view text) {
  std::size_t added = 0;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty()) continue;
    add(line);
    ++added;
  }
  return added;
}

bool NameSet::add_file(const std::filesystem::path& file, std::string& error) {
  std::ifstream in(file);
  if (!in) {
    error = "cannot read list file " + file.string() + ": " + std::strerror(errno);
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  add_text(text.str());
  return true;
}

void NameSet::add(std::string_view name) {
  std::string lower(name);
  for (auto& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  while (!lower.empty() && lower.back() == '.') lower.pop_back();
  names_.insert(std::move(lower));
}

bool NameSet::contains(std::string_view name) const { return names_.find(name) != names_.end(); }

bool NameSet::matches_domain(std::string_view domain, std::string_view registrable, std::string* entry) const {
  if (names_.empty()) return false;
  for (;;) {
    if (contains(domain)) {
      if (entry != nullptr) *entry = std::string(domain);
      return true;
    }
    if (domain.size() <= registrable.size()) return false;
    const auto dot = domain.find('.');
    if (dot == std::string_view::npos) return false;
    domain.remove_prefix(dot + 1);
  }
}

}  // namespace leadrelay::validate
