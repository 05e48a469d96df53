"""A small reader for Pascal-VOC-style annotation XML (DIOR, DIOR-R) that keeps the line of every element.

``xml.etree`` forgets where an element was, so a bad ``<object>`` could only be reported by its index. This reader
builds a plain tree with expat and records each element's 1-based start line, so messages read
``Annotations/.../00042.xml:17: field 'robndbox/x_left_top': ...``.

Untrusted input: DTDs with entity declarations are refused (the "billion laughs" and external-entity attacks need
them), as defusedxml does; VOC files never declare entities.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

from ts_instruct.errors import InvalidAnnotationError


@dataclass
class XmlNode:
    """One element: tag, stripped text, children in order, and the line it starts on."""

    tag: str
    line: int
    text: str = ""
    children: list[XmlNode] = field(default_factory=list)

    def find(self, tag: str) -> XmlNode | None:
        """The first child with ``tag``."""
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> Iterator[XmlNode]:
        """Every child with ``tag``, in order."""
        return (c for c in self.children if c.tag == tag)

    def findtext(self, path: str) -> str | None:
        """Stripped text of the element at ``path`` (``"size/width"``), or ``None`` when absent."""
        node: XmlNode | None = self
        for part in path.split("/"):
            node = node.find(part) if node is not None else None
        return None if node is None else node.text


def parse_xml(data: bytes, *, path: str) -> XmlNode:
    r"""Parse an XML document into :class:`XmlNode` objects.

    Args:
        data: the file's bytes.
        path: the file's name, for messages.

    Returns:
        The root element.

    Raises:
        InvalidAnnotationError: malformed XML (with the line expat stopped at) or an entity declaration.

    Example:
        >>> root = parse_xml(b"<annotation>\n  <size><width>800</width></size>\n</annotation>", path="a.xml")
        >>> root.findtext("size/width"), root.find("size").line
        ('800', 2)
    """
    parser = expat.ParserCreate()
    stack: list[XmlNode] = []
    texts: list[list[str]] = []
    result: list[XmlNode] = []

    def start(tag: str, _attrs: dict[str, str]) -> None:
        node = XmlNode(tag, parser.CurrentLineNumber)
        if stack:
            stack[-1].children.append(node)
        else:
            result.append(node)
        stack.append(node)
        texts.append([])

    def end(_tag: str) -> None:
        node = stack.pop()
        node.text = "".join(texts.pop()).strip()

    def chars(data: str) -> None:
        if texts:
            texts[-1].append(data)

    def refuse_entity(*_args: object) -> None:
        raise InvalidAnnotationError(path, "XML entity declarations are not accepted", line=parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.EntityDeclHandler = refuse_entity
    try:
        parser.Parse(data, True)
    except expat.ExpatError as e:
        raise InvalidAnnotationError(path, f"malformed XML ({expat.ErrorString(e.code)})", line=e.lineno) from e
    if not result:
        raise InvalidAnnotationError(path, "the XML document has no root element")
    return result[0]
