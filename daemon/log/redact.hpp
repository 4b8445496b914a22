#pragma once
// Masks what looks like an email address or a phone number in free text before it reaches a log line.
// Leads' contact fields are never passed to the logger by design; this is the second line of defence for
// messages that quote input (a config value, a parse error near some text).
#include <string>
#include <string_view>

namespace leadrelay::log {

// Replaces each email-like token with "[email]" and each run of 7 or more digits (spaces, dots, dashes,
// brackets, slashes and a leading '+' allowed between them) with "[phone]".
std::string redact(std::string_view text);

}  // namespace leadrelay::log
