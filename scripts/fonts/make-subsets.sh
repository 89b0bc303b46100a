#!/bin/sh
# Regenerate ecert's default fonts (assets/fonts/*.ttf) from Debian's fonts-noto-cjk.
# Needs: apt-get install fonts-noto-cjk python3-fonttools   (Debian's fontTools 4.38)
# Deterministic for a given fonts-noto-cjk and fontTools version (see assets/fonts/README.md).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for f in /usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc /usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc; do
  [ -f "$f" ] || { echo "missing $f: apt-get install fonts-noto-cjk" >&2; exit 1; }
done
/usr/bin/python3 -c 'import fontTools' 2>/dev/null || { echo "missing fontTools: apt-get install python3-fonttools" >&2; exit 1; }
exec /usr/bin/python3 "$here/make-subsets.py" "$root/assets/fonts"
