#!/usr/bin/env bash
# Makes assets/fonts/itvalue-cjk.ttf, the CJK font compiled into itvalue for the chart images of
# Chinese packs: WenQuanYi Micro Hei (Apache-2.0 or GPL-3.0 with the font exception, Debian's
# fonts-wqy-microhei) cut down to the characters of labels/zh.toml, the 3,755 most common Chinese
# characters (GB 2312 level 1), CJK punctuation and printable ASCII, so every label and most
# Chinese names draw without a system font. Run it again when labels/zh.toml gains characters
# (a test names any it cannot draw). Needs apt-get download, dpkg-deb and Python 3.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q fonts-wqy-microhei 2>/dev/null && dpkg-deb -x fonts-wqy-microhei_*.deb x)
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "fonttools==4.55.3"
python3 - "$work/chars.txt" <<'PY'
import sys
chars = set(chr(c) for c in range(0x20, 0x7f))
chars |= set(open("labels/zh.toml", encoding="utf-8").read())
# GB 2312 level 1: rows 16 to 55 of the code table.
for row in range(0xB0, 0xD8):
    for cell in range(0xA1, 0xFF):
        try:
            chars.add(bytes([row, cell]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
chars |= set("，。、；：？！“”‘’（）《》【】—…·％￥")
chars -= {"\n", "\r", "\t"}
open(sys.argv[1], "w", encoding="utf-8").write("".join(sorted(chars)))
PY
"$work/venv/bin/pyftsubset" "$work/x/usr/share/fonts/truetype/wqy/wqy-microhei.ttc" \
    --font-number=0 --text-file="$work/chars.txt" --layout-features='*' \
    --name-IDs='*' --output-file=assets/fonts/itvalue-cjk.ttf
cp "$work/x/usr/share/doc/fonts-wqy-microhei/copyright" assets/fonts/itvalue-cjk.COPYRIGHT
ls -l assets/fonts/itvalue-cjk.ttf
