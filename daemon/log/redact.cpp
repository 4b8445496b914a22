#include "daemon/log/redact.hpp"

namespace leadrelay::log {
namespace {

bool is_local_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80 ||
         std::string_view("!#$%&'*+-/=?^_`{|}~.").find(static_cast<char>(c)) != std::string_view::npos;
}
bool is_domain_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80 || c == '-' ||
         c == '.';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_phone_separator(char c) { return c == ' ' || c == '.' || c == '-' || c == '(' || c == ')' || c == '/'; }

// Masks emails: any '@' with at least one local character before it and a dotted domain after it.
std::string mask_emails(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  std::size_t copied = 0;
  for (std::size_t at = in.find('@'); at != std::string_view::npos; at = in.find('@', at + 1)) {
    std::size_t start = at;
    while (start > copied && is_local_char(static_cast<unsigned char>(in[start - 1]))) --start;
    std::size_t end = at + 1;
    bool dotted = false;
    while (end < in.size() && is_domain_char(static_cast<unsigned char>(in[end]))) {
      dotted |= in[end] == '.';
      ++end;
    }
    if (start == at || !dotted) continue;
    out.append(in.substr(copied, start - copied));
    out += "[email]";
    copied = end;
    at = end - 1;
  }
  out.append(in.substr(copied));
  return out;
}

std::string mask_phones(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    if (!is_digit(in[i]) && !(in[i] == '+' && i + 1 < in.size() && is_digit(in[i + 1]))) {
      out += in[i++];
      continue;
    }
    // Extend over digits and separators; stop the run at its last digit.
    std::size_t last_digit = i;
    int digits = 0;
    for (std::size_t j = i; j < in.size(); ++j) {
      if (is_digit(in[j])) {
        ++digits;
        last_digit = j;
      } else if (!(is_phone_separator(in[j]) || (j == i && in[j] == '+'))) {
        break;
      }
    }
    if (digits >= 7) {
      out += "[phone]";
    } else {
      out.append(in.substr(i, last_digit + 1 - i));
    }
    i = last_digit + 1;
  }
  return out;
}

}  // namespace

std::string redact(std::string_view text) {
  if (text.find('@') == std::string_view::npos) return mask_phones(text);
  return mask_phones(mask_emails(text));
}

}  // namespace leadrelay::log
