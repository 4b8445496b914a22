#include "daemon/model/country.hpp"

#include <string>
#include <unordered_map>

#include "daemon/util/strings.hpp"

namespace leadrelay::model {
namespace {

struct Country {
  std::string_view alpha2;
  std::string_view alpha3;
  std::string_view name;
  std::string_view official_name;
  std::string_view common_name;
};

constexpr Country kCountries[] = {
#include "daemon/model/country_table.inc"
};

// Names people write that ISO's English names do not cover.
constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
    {"usa", "US"},
    {"u s a", "US"},
    {"u s", "US"},
    {"america", "US"},
    {"united states of america", "US"},
    {"uk", "GB"},
    {"u k", "GB"},
    {"great britain", "GB"},
    {"britain", "GB"},
    {"england", "GB"},
    {"scotland", "GB"},
    {"wales", "GB"},
    {"northern ireland", "GB"},
    {"south korea", "KR"},
    {"korea", "KR"},
    {"republic of korea", "KR"},
    {"north korea", "KP"},
    {"russia", "RU"},
    {"vietnam", "VN"},
    {"czech republic", "CZ"},
    {"holland", "NL"},
    {"turkey", "TR"},
    {"ivory coast", "CI"},
    {"cape verde", "CV"},
    {"swaziland", "SZ"},
    {"burma", "MM"},
    {"macedonia", "MK"},
    {"vatican", "VA"},
    {"vatican city", "VA"},
    {"palestine", "PS"},
    {"micronesia", "FM"},
    {"laos", "LA"},
    {"syria", "SY"},
    {"iran", "IR"},
    {"moldova", "MD"},
    {"tanzania", "TZ"},
    {"venezuela", "VE"},
    {"bolivia", "BO"},
    {"brunei", "BN"},
    {"macau", "MO"},
    {"uae", "AE"},
    {"emirates", "AE"},
    {"drc", "CD"},
    {"dr congo", "CD"},
    {"democratic republic of the congo", "CD"},
    {"republic of the congo", "CG"},
    {"east timor", "TL"},
    {"st lucia", "LC"},
    {"st kitts and nevis", "KN"},
    {"st vincent and the grenadines", "VC"},
    {"deutschland", "DE"},
    {"espana", "ES"},
    {"schweiz", "CH"},
    {"osterreich", "AT"},
    {"nederland", "NL"},
    {"brasil", "BR"},
    {"mexico", "MX"},
};

// Latin-1 supplement letters (as UTF-8, C3 xx) folded to ASCII; enough for country names.
char fold_c3(unsigned char second) {
  static constexpr std::string_view kFold =
      // C3 80..BF: ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞß àáâãäåæçèéêëìíîïðñòóôõö÷øùúûüýþÿ
      "aaaaaaaceeeeiiiidnooooo ouuuuyts"
      "aaaaaaaceeeeiiiidnooooo ouuuuyty";
  return (second >= 0x80 && second <= 0xbf) ? kFold[second - 0x80] : ' ';
}

// Lower-case ASCII words separated by single spaces; accents folded, punctuation dropped, "the " removed.
std::string normalise_name(std::string_view raw) {
  std::string out;
  bool space = false;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto c = static_cast<unsigned char>(raw[i]);
    char folded = ' ';
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      folded = static_cast<char>(c);
    } else if (c >= 'A' && c <= 'Z') {
      folded = util::ascii_lower(static_cast<char>(c));
    } else if (c == '\'' ) {
      continue;  // "Cote d'Ivoire" and "Cote dIvoire" alike
    } else if (c == 0xc3 && i + 1 < raw.size()) {
      folded = fold_c3(static_cast<unsigned char>(raw[++i]));
    } else if (c == 0xe2 && i + 2 < raw.size() && static_cast<unsigned char>(raw[i + 1]) == 0x80 &&
               static_cast<unsigned char>(raw[i + 2]) == 0x99) {
      i += 2;  // U+2019 right single quotation mark, as in "Côte d’Ivoire"
      continue;
    }
    if (folded == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += folded;
  }
  if (out.rfind("the ", 0) == 0) out.erase(0, 4);
  return out;
}

const std::unordered_map<std::string, std::string_view>& name_index() {
  static const auto index = [] {
    std::unordered_map<std::string, std::string_view> m;
    for (const auto& c : kCountries) {
      for (auto name : {c.name, c.official_name, c.common_name}) {
        if (!name.empty()) m.emplace(normalise_name(name), c.alpha2);
      }
      // "Bolivia, Plurinational State of" is also written "Bolivia".
      const auto comma = c.name.find(',');
      if (comma != std::string_view::npos) m.emplace(normalise_name(c.name.substr(0, comma)), c.alpha2);
    }
    for (const auto& [alias, code] : kAliases) m.emplace(std::string(alias), code);
    return m;
  }();
  return index;
}

}  // namespace

std::string_view country_alpha2(std::string_view raw) {
  const auto t = util::trim(raw);
  if (t.size() == 2 || t.size() == 3) {
    const auto upper = util::to_upper(t);
    for (const auto& c : kCountries) {
      if ((t.size() == 2 && c.alpha2 == upper) || (t.size() == 3 && c.alpha3 == upper)) return c.alpha2;
    }
    if (upper == "UK") return "GB";  // exceptionally reserved by ISO for the United Kingdom
  }
  const auto& index = name_index();
  const auto it = index.find(normalise_name(t));
  return it == index.end() ? std::string_view{} : it->second;
}

}  // namespace leadrelay::model
