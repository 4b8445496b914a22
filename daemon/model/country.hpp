#pragma once
// ISO 3166-1 country normalisation for form data: alpha-2 ("us"), alpha-3 ("USA") or an English name
// ("United States", "Côte d'Ivoire", "South Korea") to the alpha-2 code.
#include <string_view>

namespace leadrelay::model {

// The alpha-2 code for `raw`, or an empty view when it names no country. Matching ignores case, accents,
// punctuation and a leading "the".
std::string_view country_alpha2(std::string_view raw);

}  // namespace leadrelay::model
