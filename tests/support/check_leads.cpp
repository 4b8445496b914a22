// Reads JSON documents, one per line, from stdin and checks each against schemas/lead.v1.json.
// Prints one line per invalid document and exits 1 if there was any; used by the integration tests to check the
// leads the real binary stored.
#include <iostream>
#include <string>

#include "tests/support/lead_schema.hpp"

int main() {
  std::string line;
  int checked = 0;
  int invalid = 0;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    ++checked;
    const auto errors = leadrelay::testing::lead_schema_errors(line);
    if (!errors.empty()) {
      ++invalid;
      std::cout << "line " << checked << ": " << errors << "\n";
    }
  }
  std::cout << checked << " checked, " << invalid << " invalid\n";
  return invalid == 0 && checked > 0 ? 0 : 1;
}
