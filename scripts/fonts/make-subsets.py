#!/usr/bin/python3
"""Make ecert's default fonts: GB 2312 subsets of Noto Serif/Sans CJK SC with TrueType outlines.

Input: Debian's fonts-noto-cjk (.ttc, CFF outlines; the SC face is index 2).
Output: assets/fonts/ECertSerifSC-{Regular,Bold}.ttf, ECertSansSC-{Regular,Bold}.ttf.

Steps, per face:
1. keep only the ZHS language system (and the default one) in GSUB/GPOS, so that the
   layout closure does not pull in the JP/KR/TC forms;
2. subset to GB 2312 + ASCII/Latin-1 + the symbol blocks certificates use, keeping the
   layout features typst applies to CJK text (locl changes the advances of e.g. "—");
3. convert CFF cubic outlines to TrueType quadratic ones (glyf/loca), because OFD readers
   handle TrueType best (docs/architecture.md, "Fonts");
4. rename to a neutral family ("ECert Serif SC"): the result is a Modified Version under the
   SIL Open Font License 1.1 and must not use the reserved font name "Source".

Run with Debian's python3 and python3-fonttools (4.38): /usr/bin/python3 make-subsets.py OUTDIR
"""

import sys
from pathlib import Path

from fontTools.ttLib import TTFont, newTable
from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen

NOTO = Path("/usr/share/fonts/opentype/noto")
FACES = [
    ("NotoSerifCJK-Regular.ttc", "ECert Serif SC", "Regular", "ECertSerifSC-Regular.ttf"),
    ("NotoSerifCJK-Bold.ttc", "ECert Serif SC", "Bold", "ECertSerifSC-Bold.ttf"),
    ("NotoSansCJK-Regular.ttc", "ECert Sans SC", "Regular", "ECertSansSC-Regular.ttf"),
    ("NotoSansCJK-Bold.ttc", "ECert Sans SC", "Bold", "ECertSansSC-Bold.ttf"),
]
SC_INDEX = 2

# Features typst (rustybuzz) applies to horizontal CJK/Latin text, plus the ones our
# templates may switch on (sups/subs/frac/numr/dnom, halt/palt for punctuation).
FEATURES = [
    "ccmp", "locl", "kern", "liga", "clig", "calt", "mark", "mkmk", "halt", "palt",
    "fwid", "hwid", "pwid", "sups", "subs", "frac", "numr", "dnom", "vert", "vrt2",
]
FEATURES.remove("vert")
FEATURES.remove("vrt2")

BLOCKS = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 (° ± µ × ÷ ² ³)
    (0x0100, 0x017F),  # Latin Extended-A (names, pinyin)
    (0x01CD, 0x01DC),  # pinyin with caron
    (0x02C6, 0x02DD),  # modifier letters (ˇ ˉ ˊ ˋ ˙)
    (0x0391, 0x03C9),  # Greek (Ω α β γ δ ε λ μ π σ φ ω)
    (0x0401, 0x0451),  # Cyrillic (in GB 2312 anyway)
    (0x2010, 0x205E),  # General Punctuation (— ‘ ’ “ ” … ‰ ′ ″ ※)
    (0x2070, 0x209F),  # superscripts/subscripts (Noto CJK has only a few)
    (0x20AC, 0x20AC),  # €
    (0x2100, 0x214F),  # Letterlike (℃ ℉ Ω № ™ Å)
    (0x2150, 0x218F),  # Number forms (Ⅰ Ⅱ ⅰ ⅱ ½)
    (0x2190, 0x21FF),  # Arrows
    (0x2200, 0x22FF),  # Mathematical operators (≤ ≥ ≈ ≠ ∞ √ ∑ −)
    (0x2300, 0x23FF),  # Miscellaneous technical (⌀)
    (0x2460, 0x24FF),  # Enclosed alphanumerics (① ⑴ ⒈)
    (0x2500, 0x257F),  # Box drawing
    (0x25A0, 0x25FF),  # Geometric shapes (□ ■ △ ○ ●)
    (0x2600, 0x26FF),  # Miscellaneous symbols (★ ☆ ☑ ☒)
    (0x2713, 0x2717),  # check marks (✓ ✔ ✕ ✖ ✗)
    (0x3000, 0x303F),  # CJK symbols and punctuation (、。〃〈〉《》「」【】〔〕)
    (0x3200, 0x32FF),  # Enclosed CJK (㈠ ㊣)
    (0x3300, 0x33FF),  # CJK compatibility (㎜ ㎝ ㎏ ㎡ ㏄)
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF01, 0xFFEF),  # Halfwidth and fullwidth forms (～ ，：；（）)
]


def gb2312():
    """Every character of GB 2312 (6,763 hanzi and 682 symbols), by decoding each code."""
    out = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                out.add(ord(bytes([hi, lo]).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return out


def wanted():
    cps = gb2312()
    for lo, hi in BLOCKS:
        cps.update(range(lo, hi + 1))
    return cps


def keep_zhs_only(font):
    """Drop every language system except ZHS (and the default one) from GSUB and GPOS."""
    for tag in ("GSUB", "GPOS"):
        if tag not in font:
            continue
        table = font[tag].table
        if table.ScriptList is None:
            continue
        for rec in table.ScriptList.ScriptRecord:
            script = rec.Script
            script.LangSysRecord = [r for r in script.LangSysRecord if r.LangSysTag == "ZHS "]
            script.LangSysCount = len(script.LangSysRecord)


def to_truetype(font):
    """Replace the CFF outlines by quadratic TrueType ones (glyf + loca)."""
    order = font.getGlyphOrder()
    gs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(None)
        # max_err in font units (1/1000 em): invisible at any print size.
        gs[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
        "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    maxp.maxComponentDepth = 0
    post = font["post"]
    post.formatType = 3.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = None
    font.sfntVersion = "\x00\x01\x00\x00"
    font["head"].glyphDataFormat = 0


def rename(font, family, style):
    """Neutral names (OFL Reserved Font Name "Source"); keep copyright and licence records."""
    name = font["name"]
    copyright_ = name.getDebugName(0)
    version = name.getDebugName(5) or "Version 1.0"
    licence = name.getDebugName(13)
    licence_url = name.getDebugName(14)
    ps = family.replace(" ", "") + "-" + style
    full = family if style == "Regular" else f"{family} {style}"
    name.names = []
    records = {
        0: copyright_ + " Modified (subset to GB 2312, TrueType outlines) for ecert.",
        1: family,
        2: style,
        3: f"{version};ECERT;{ps}",
        4: full,
        5: version,
        6: ps,
        13: licence,
        14: licence_url,
    }
    for nid, text in records.items():
        if text:
            name.setName(text, nid, 3, 1, 0x409)
            name.setName(text, nid, 1, 0, 0)


def make(src, family, style, out):
    font = TTFont(src, fontNumber=SC_INDEX, lazy=False)
    keep_zhs_only(font)
    opts = subset.Options()
    opts.layout_features = FEATURES
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.glyph_names = False
    opts.hinting = False
    opts.drop_tables += ["vhea", "vmtx", "VORG", "BASE", "DSIG", "JSTF", "meta"]
    opts.prune_unicode_ranges = True
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=sorted(wanted()))
    sub.subset(font)
    to_truetype(font)
    rename(font, family, style)
    font["OS/2"].fsType = 0  # installable embedding, as the original
    font.recalcBBoxes = True
    font.save(out)
    check = TTFont(out)
    cmap = check.getBestCmap()
    print(f"{out}: {len(check.getGlyphOrder())} glyphs, {len(cmap)} code points, "
          f"{Path(out).stat().st_size} bytes")


def main():
    outdir = Path(sys.argv[1] if len(sys.argv) > 1 else "assets/fonts")
    outdir.mkdir(parents=True, exist_ok=True)
    for src, family, style, out in FACES:
        make(NOTO / src, family, style, outdir / out)


if __name__ == "__main__":
    main()
