#include "detectors/identifiers.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <cctype>

namespace leakguard::ids {
namespace {

// ITU-T E.212 mobile country codes (the list operators are assigned from), sorted.
constexpr short mobile_country_codes[] = {
    202, 204, 206, 208, 212, 213, 214, 216, 218, 219, 220, 221, 222, 225, 226, 228, 230, 231, 232, 234, 235, 238,
    240, 242, 244, 246, 247, 248, 250, 255, 257, 259, 260, 262, 266, 268, 270, 272, 274, 276, 278, 280, 282, 283,
    284, 286, 288, 289, 290, 292, 293, 294, 295, 297, 302, 308, 310, 311, 312, 313, 314, 315, 316, 330, 332, 334,
    338, 340, 342, 344, 346, 348, 350, 352, 354, 356, 358, 360, 362, 363, 364, 365, 366, 368, 370, 372, 374, 376,
    400, 401, 402, 404, 405, 406, 410, 412, 413, 414, 415, 416, 417, 418, 419, 420, 421, 422, 424, 425, 426, 427,
    428, 429, 430, 431, 432, 434, 436, 437, 438, 440, 441, 450, 452, 454, 455, 456, 457, 460, 461, 466, 467, 470,
    472, 502, 505, 510, 514, 515, 520, 525, 528, 530, 536, 537, 539, 540, 541, 542, 543, 544, 545, 546, 547, 548,
    549, 550, 551, 552, 553, 554, 555, 602, 603, 604, 605, 606, 607, 608, 609, 610, 611, 612, 613, 614, 615, 616,
    617, 618, 619, 620, 621, 622, 623, 624, 625, 626, 627, 628, 629, 630, 631, 632, 633, 634, 635, 636, 637, 638,
    639, 640, 641, 642, 643, 645, 646, 647, 648, 649, 650, 651, 652, 653, 654, 655, 657, 658, 659, 702, 704, 706,
    708, 710, 712, 714, 716, 722, 724, 730, 732, 734, 736, 738, 740, 742, 744, 746, 748, 750, 901, 902, 995,
};

// GSMA reporting body identifiers: the first two digits of every allocated TAC.
constexpr std::array<std::string_view, 17> imei_prefixes = {"01", "10", "30", "33", "35", "44", "45", "49", "50",
                                                            "51", "52", "53", "54", "86", "91", "98", "99"};

}  // namespace

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return is_digit(c); });
}

bool luhn_valid(std::string_view digits) {
  if (!all_digits(digits)) return false;
  int sum = 0;
  bool doubled = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (doubled) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    doubled = !doubled;
  }
  return sum % 10 == 0;
}

char luhn_digit(std::string_view digits) {
  int sum = 0;
  bool doubled = true;  // the check digit will take the undoubled last place
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (doubled) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    doubled = !doubled;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

std::size_t e164_country_code_length(std::string_view digits) {
  if (digits.size() < 2 || !is_digit(digits[0]) || !is_digit(digits[1])) return 0;
  const char a = digits[0];
  const char b = digits[1];
  // Country codes are prefix-free: the first digit or two decide the length.
  switch (a) {
    case '1':
    case '7': return 1;
    case '2': return (b == '0' || b == '7') ? 2 : 3;
    case '3': return (b <= '4' || b == '6' || b == '9') ? 2 : 3;
    case '4': return b == '2' ? 3 : 2;
    case '5': return (b == '0' || b == '9') ? 3 : 2;
    case '6': return b <= '6' ? 2 : 3;
    case '8': return (b == '1' || b == '2' || b == '4' || b == '6') ? 2 : 3;
    case '9': return (b <= '5' || b == '8') ? 2 : 3;
    default: return 0;  // '0' is no country code
  }
}

bool valid_mcc(std::string_view digits) {
  if (digits.size() < 3 || !is_digit(digits[0]) || !is_digit(digits[1]) || !is_digit(digits[2])) return false;
  const short mcc = static_cast<short>((digits[0] - '0') * 100 + (digits[1] - '0') * 10 + (digits[2] - '0'));
  return std::binary_search(std::begin(mobile_country_codes), std::end(mobile_country_codes), mcc);
}

bool plausible_imei_prefix(std::string_view digits) {
  if (digits.size() < 2) return false;
  return std::find(imei_prefixes.begin(), imei_prefixes.end(), digits.substr(0, 2)) != imei_prefixes.end();
}

bool placeholder_digits(std::string_view digits) {
  if (digits.empty()) return true;
  if (std::all_of(digits.begin(), digits.end(), [&](char c) { return c == digits[0]; })) return true;
  // Ascending or descending runs: 123456789012345, 987654321098765 (short runs are real numbers).
  if (digits.size() < 10) return false;
  bool ascending = true;
  bool descending = true;
  for (std::size_t i = 1; i < digits.size() && (ascending || descending); ++i) {
    const char before = digits[i - 1];
    if (digits[i] != (before == '9' ? '0' : before + 1)) ascending = false;
    if (digits[i] != (before == '0' ? '9' : before - 1)) descending = false;
  }
  if (ascending || descending) return true;
  // A short prefix then zeros ("350000000000000", "8900000000000000000") is a template.
  const std::size_t last_nonzero = digits.find_last_not_of('0');
  return last_nonzero != std::string_view::npos && last_nonzero < 4 && digits.size() >= 12;
}

namespace {
std::string keep_digits(std::string_view text) {
  std::string out;
  for (const char c : text)
    if (is_digit(c)) out.push_back(c);
  return out;
}
std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}
std::string to_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

std::optional<std::string> canonical_value(IdentifierKind kind, std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  switch (kind) {
    case IdentifierKind::imei: {
      std::string digits = keep_digits(text);
      if (digits.size() == 14) digits.push_back(luhn_digit(digits));
      if (digits.size() != 15 && digits.size() != 16) return std::nullopt;
      return digits;
    }
    case IdentifierKind::imsi: {
      std::string digits = keep_digits(text);
      if (digits.size() < 6 || digits.size() > 15) return std::nullopt;
      return digits;
    }
    case IdentifierKind::iccid: {
      std::string_view body = text;
      while (!body.empty() && (body.back() == 'f' || body.back() == 'F')) body.remove_suffix(1);
      std::string digits = keep_digits(body);
      if (digits.size() < 18 || digits.size() > 22) return std::nullopt;
      return digits;
    }
    case IdentifierKind::msisdn: {
      std::string digits = keep_digits(text);
      if (text.front() == '+') return digits.size() >= 7 && digits.size() <= 15 ? std::optional("+" + digits) : std::nullopt;
      if (digits.size() > 4 && digits.compare(0, 2, "00") == 0) return "+" + digits.substr(2);
      if (digits.size() < 6 || digits.size() > 15) return std::nullopt;
      return digits;
    }
    case IdentifierKind::mac: {
      std::string hex;
      for (const char c : text) {
        if (is_hex(c)) hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        else if (c != ':' && c != '-' && c != '.') return std::nullopt;
      }
      if (hex.size() != 12) return std::nullopt;
      std::string out;
      for (std::size_t i = 0; i < 12; i += 2) {
        if (i) out.push_back(':');
        out.append(hex, i, 2);
      }
      return out;
    }
    case IdentifierKind::android_id:
    case IdentifierKind::email:
      return to_lower(text);
    case IdentifierKind::gaid: {
      std::string lower = to_lower(text);
      if (lower.size() == 32 && std::all_of(lower.begin(), lower.end(), [](char c) { return is_hex(c); }))
        lower = lower.substr(0, 8) + "-" + lower.substr(8, 4) + "-" + lower.substr(12, 4) + "-" + lower.substr(16, 4) +
                "-" + lower.substr(20);
      return lower;
    }
    case IdentifierKind::serial:
      return std::string(text);
    case IdentifierKind::location:
    case IdentifierKind::cell:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace leakguard::ids
