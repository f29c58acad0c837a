#!/usr/bin/env python3
"""Writes the encoding and hostile-input fixtures of Tests/ParseTests/Fixtures.
Each file is a small RSS document whose item title is TITLE (or a known string)
in the named encoding. Run once; the files are committed as test data."""
import os, codecs
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ParseTests", "Fixtures")
os.makedirs(out, exist_ok=True)

def rss(title, decl_encoding=None, desc="d"):
    decl = f'<?xml version="1.0" encoding="{decl_encoding}"?>\n' if decl_encoding else ''
    return (decl + '<rss version="2.0"><channel><title>Enc</title><link>http://e.example/</link>'
            f'<item><title>{title}</title><guid>g1</guid><description>{desc}</description></item></channel></rss>\n')

texts = {
    "windows-1251": "Привет, мир — новости",
    "koi8-r": "Привет, мир",
    "iso-8859-1": "Café déjà vu",
    "windows-1252": "Café “quoted” — dash",
    "iso-8859-2": "Zażółć gęślą jaźń",
    "shift_jis": "日本語のニュース",
    "euc-jp": "日本語のニュース",
    "gb2312": "中文新闻标题",
    "big5": "中文新聞標題",
    "euc-kr": "한국어 뉴스",
}
for enc, title in texts.items():
    with open(os.path.join(out, f"enc-{enc}.xml"), "wb") as f:
        f.write(rss(title, enc).encode(enc))

title = "Grüße aus Köln ✓"
with open(os.path.join(out, "enc-utf-16le-bom.xml"), "wb") as f:
    f.write(codecs.BOM_UTF16_LE + rss(title, "UTF-16").encode("utf-16-le"))
with open(os.path.join(out, "enc-utf-16be-bom.xml"), "wb") as f:
    f.write(codecs.BOM_UTF16_BE + rss(title, "UTF-16").encode("utf-16-be"))
with open(os.path.join(out, "enc-utf-16le-nobom.xml"), "wb") as f:
    f.write(rss(title, "UTF-16").encode("utf-16-le"))
with open(os.path.join(out, "enc-utf-32le-bom.xml"), "wb") as f:
    f.write(codecs.BOM_UTF32_LE + rss(title, "UTF-32").encode("utf-32-le"))
with open(os.path.join(out, "enc-utf-8-bom.xml"), "wb") as f:
    f.write(codecs.BOM_UTF8 + rss(title, "UTF-8").encode("utf-8"))
# No declaration: the caller's HTTP charset decides.
with open(os.path.join(out, "enc-nodecl-windows-1251.xml"), "wb") as f:
    f.write(rss(texts["windows-1251"]).encode("windows-1251"))
# Declared UTF-8, really windows-1252 (a common mislabel).
with open(os.path.join(out, "enc-mislabelled-utf8-is-1252.xml"), "wb") as f:
    f.write(rss("Café “quoted”", "UTF-8").encode("windows-1252"))
# UTF-8 with a few invalid bytes after valid multi-byte text: U+FFFD.
with open(os.path.join(out, "enc-utf8-invalid-bytes.xml"), "wb") as f:
    f.write(rss("Grüße", "UTF-8").encode("utf-8").replace("Grüße</title>".encode(), "Grüße".encode() + b" \xff\xfe bad</title>"))
