"""Telegram-flavoured HTML into plain text and message entities, with lengths and offsets in UTF-16
code units as Telegram counts them.
"""

from __future__ import annotations

import re

from sandbox.telegram_standin.protocol import (
    JSON,
)


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units: an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([A-Za-z][A-Za-z0-9]*));")
_ATTR_RE = re.compile(r"""([A-Za-z][\w-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


def _decode_entity(text: str, i: int) -> tuple[str, int]:
    """Decode the entity at ``text[i] == "&"``; return the character and the index after it.

    The Bot API documents that every ``&`` not starting an entity must be written ``&amp;`` and
    that only four named entities exist, so anything else is rejected here.
    """
    match = _ENTITY_RE.match(text, i)
    offset = _byte_offset(text, i)
    if match is None:
        raise ValueError(f"Unsupported HTML entity at byte offset {offset}: escape '&' as &amp;")
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        if name not in _NAMED_ENTITIES:
            raise ValueError(f'Unsupported HTML entity "&{name};" at byte offset {offset}')
        return _NAMED_ENTITIES[name], match.end()
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise ValueError(f"Invalid numeric HTML entity at byte offset {offset}")
    return chr(code), match.end()


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "&":
            char, i = _decode_entity(text, i)
            out.append(char)
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _parse_attributes(text: str, j: int, tag: str, tag_offset: int) -> tuple[dict[str, str], int]:
    """Parse ``name="value"`` pairs up to the closing ``>`` of a start tag."""
    attrs: dict[str, str] = {}
    while True:
        while j < len(text) and text[j].isspace():
            j += 1
        if j >= len(text):
            raise ValueError(f"Unclosed start tag at byte offset {tag_offset}")
        if text[j] == ">":
            return attrs, j + 1
        match = _ATTR_RE.match(text, j)
        if match is None:
            raise ValueError(f'Bad attribute in tag "{tag}" at byte offset {_byte_offset(text, j)}')
        name, double, single, bare = match.groups()
        value = next((v for v in (double, single, bare) if v is not None), None)
        if value is None and not (tag == "blockquote" and name.lower() == "expandable"):
            raise ValueError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {_byte_offset(text, j)}"
            )
        attrs[name.lower()] = _unescape(value or "")
        j = match.end()


def _check_start_tag(tag: str, attrs: dict[str, str], offset: int) -> None:
    if tag == "a" and not attrs.get("href"):
        raise ValueError(f'Tag "a" must have attribute "href" at byte offset {offset}')
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise ValueError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    if tag == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
        raise ValueError(f"Custom emoji identifier must be specified at byte offset {offset}")


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Parse Telegram-flavoured HTML into (plain text, message entities).

    Follows the Bot API "HTML style" rules: a fixed set of tags, properly nested and closed;
    only &lt; &gt; &amp; &quot; and numeric entities. Raises ValueError with a description in
    the spirit of tdlib's (the caller prefixes "Bad Request: can't parse entities: ").
    Offsets and lengths of entities are in UTF-16 code units, like Telegram's.
    """
    out: list[str] = []
    position = 0  # UTF-16 length of `out`
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[JSON] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "&":
            char, i = _decode_entity(source, i)
            out.append(char)
            position += utf16_len(char)
            continue
        if char != "<":
            out.append(char)
            position += utf16_len(char)
            i += 1
            continue
        offset = _byte_offset(source, i)
        closing = source.startswith("</", i)
        j = i + (2 if closing else 1)
        while j < len(source) and not source[j].isspace() and source[j] != ">":
            j += 1
        tag = source[i + (2 if closing else 1) : j].lower()
        if not closing:
            if j >= len(source):
                raise ValueError(f"Unclosed start tag at byte offset {offset}")
            if tag not in _HTML_TAGS:
                raise ValueError(f'Unsupported start tag "{tag}" at byte offset {offset}')
            attrs, i = _parse_attributes(source, j, tag, offset)
            _check_start_tag(tag, attrs, offset)
            stack.append((tag, position, attrs))
            continue
        (open_tag, start, attrs), i = _end_tag(source, j, tag, offset, stack)
        if position > start:
            entities.append(_entity(open_tag, start, position - start, attrs, entities))
    if stack:
        raise ValueError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)  # only <pre><code class="language-x"> carries one
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _end_tag(
    source: str, j: int, tag: str, offset: int, stack: list[tuple[str, int, dict[str, str]]]
) -> tuple[tuple[str, int, dict[str, str]], int]:
    """Check the end tag whose name ends at `j` and pop the start tag it closes (an empty name
    closes whatever is open); returns that start tag and the index after the `>`."""
    while j < len(source) and source[j].isspace():
        j += 1
    if j >= len(source) or source[j] != ">":
        raise ValueError(f"Unclosed end tag at byte offset {offset}")
    if not stack:
        raise ValueError(f"Unexpected end tag at byte offset {offset}")
    open_tag, start, attrs = stack.pop()
    if tag and tag != open_tag:
        raise ValueError(
            f'Unmatched end tag at byte offset {offset}, expected "</{open_tag}>", found "</{tag}>"'
        )
    return (open_tag, start, attrs), j + 1


def _entity(tag: str, offset: int, length: int, attrs: dict[str, str], done: list[JSON]) -> JSON:
    entity: JSON = {"type": _HTML_TAGS[tag], "offset": offset, "length": length}
    if tag == "a":
        entity["url"] = attrs["href"]
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs["emoji-id"]
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif tag == "code" and attrs.get("class", "").startswith("language-"):
        entity["language"] = attrs["class"].removeprefix("language-")
    elif tag == "pre" and done and done[-1]["type"] == "code":
        inner = done[-1]
        if (inner["offset"], inner["length"]) == (offset, length):
            done.pop()
            if inner.get("language"):
                entity["language"] = inner["language"]
    return entity
