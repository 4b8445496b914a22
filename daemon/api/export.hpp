#pragma once
// The leads export (Partner Center's download): CSV (RFC 4180) or TSV, newest first, at most kMaxExportRows rows.
// A cell that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) is
// prefixed with ' (OWASP's CSV injection advice). When cut, a last comment line says "newest 5,000 of N".
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/store/records.hpp"

namespace leadrelay::api {

inline constexpr int kMaxExportRows = 5000;

enum class ExportFormat { Csv, Tsv };

// The header row, one row per lead, and the cut note when `total` exceeds the rows given.
std::string export_table(const std::vector<store::LeadRow>& rows, ExportFormat format, std::int64_t total);

// One cell as written: injection-guarded, and quoted (CSV) or with tabs and line breaks turned into spaces (TSV).
std::string export_cell(std::string_view value, ExportFormat format);

}  // namespace leadrelay::api
