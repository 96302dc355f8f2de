import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The text nodes and element counts of an XML document, or an error if it is not well-formed.
struct ParsedSVG {
    var texts: [String] = []
    var elementCounts: [String: Int] = [:]
    var rootName: String?

    struct Malformed: Error { let description: String }

    init(_ document: String) throws {
        let collector = Collector()
        let parser = XMLParser(data: Data(document.utf8))
        parser.delegate = collector
        guard parser.parse() else {
            throw Malformed(description: parser.parserError.map { "\($0)" } ?? "unknown XML error")
        }
        texts = collector.texts.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        elementCounts = collector.elementCounts
        rootName = collector.rootName
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var texts: [String] = []
        var elementCounts: [String: Int] = [:]
        var rootName: String?
        private var currentText = ""

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            if rootName == nil { rootName = name }
            elementCounts[name, default: 0] += 1
            texts.append(currentText)
            currentText = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { currentText += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            texts.append(currentText)
            currentText = ""
        }
    }
}
