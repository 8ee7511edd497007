"""Writes a measured table into docs/PERFORMANCE.md between a pair of HTML-comment markers, so the
benchmark scripts regenerate their sections and leave the hand-written text around them alone."""
import os

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "PERFORMANCE.md")


def replace_section(section, table):
    begin_marker, end_marker = f"<!-- {section}:begin -->", f"<!-- {section}:end -->"
    with open(PATH) as f:
        text = f.read()
    begin, end = text.index(begin_marker) + len(begin_marker), text.index(end_marker)
    with open(PATH, "w") as f:
        f.write(text[:begin] + "\n" + table + "\n" + text[end:])
    print("updated", os.path.normpath(PATH))
