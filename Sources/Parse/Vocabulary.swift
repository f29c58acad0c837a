/// The namespaces feeds use, by URI.
enum Namespace: Sendable {
    case none, rss, atom10, atom03, dc, dcterms, content, media, itunes, xhtml, rdf, sy, xml, other

    init(uri: String?) {
        guard let uri, !uri.isEmpty else { self = .none; return }
        switch uri {
        case "http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/", "http://backend.userland.com/rss2",
            "http://blogs.law.harvard.edu/tech/rss", "http://backend.userland.com/rss", "http://purl.org/net/rss1.1#":
            self = .rss
        case "http://www.w3.org/2005/Atom": self = .atom10
        case "http://purl.org/atom/ns#", "http://purl.org/atom/ns#draft-ietf-atompub-format-08": self = .atom03
        case "http://purl.org/dc/elements/1.1/", "http://purl.org/dc/elements/1.0/": self = .dc
        case "http://purl.org/dc/terms/": self = .dcterms
        case "http://purl.org/rss/1.0/modules/content/": self = .content
        case "http://search.yahoo.com/mrss/", "http://search.yahoo.com/mrss", "http://tools.search.yahoo.com/mrss/":
            self = .media
        case "http://www.itunes.com/dtds/podcast-1.0.dtd", "http://www.itunes.com/DTDs/Podcast-1.0.dtd": self = .itunes
        case "http://www.w3.org/1999/xhtml": self = .xhtml
        case "http://www.w3.org/1999/02/22-rdf-syntax-ns#": self = .rdf
        case "http://purl.org/rss/1.0/modules/syndication/": self = .sy
        case "http://www.w3.org/XML/1998/namespace": self = .xml
        default:
            // Atom and RSS namespaces written with small variations.
            if uri.hasPrefix("http://www.w3.org/2005/Atom") { self = .atom10 }
            else if uri.hasPrefix("http://purl.org/atom/ns") { self = .atom03 }
            else { self = .other }
        }
    }

    /// Elements of the feed formats themselves (as opposed to extension modules).
    var isCore: Bool {
        switch self {
        case .none, .rss, .atom10, .atom03: return true
        default: return false
        }
    }
}

/// The elements feedspool reads, named by what they mean.
enum Tag: Sendable, Equatable {
    // Containers
    case rssRoot, rdfRoot, atomFeed, channel, item, entry
    case image, textInput, ignoredContainer, atomSource, person
    // Shared fields
    case title, link, description, summary, subtitle, content, guid, id
    case pubDate, published, updated, lastBuildDate, created
    case author, name, email, uri, url, category, enclosure, source, language
    case generator, logo, icon, ttl, managingEditor, webMaster
    // Extensions
    case dcTitle, dcCreator, dcDate, dcSubject, dcLanguage, dcDescription, dctermsIssued, dctermsModified
    case contentEncoded, xhtmlBody
    case mediaContent, mediaThumbnail, mediaDescription, mediaCategory, mediaKeywords, mediaTitle
    case itunesAuthor, itunesSummary, itunesImage
    case syUpdatePeriod, syUpdateFrequency
    case other

    init(namespace ns: Namespace, local: String) {
        switch ns {
        case .none, .rss, .atom10, .atom03:
            // Real feeds get the case of RSS element names wrong (<TiTlE>); so do readers' expectations.
            switch local.lowercased() {
            case "rss": self = .rssRoot
            case "rdf": self = .rdfRoot
            case "feed": self = .atomFeed
            case "channel": self = .channel
            case "item": self = .item
            case "entry": self = .entry
            case "image": self = .image
            case "textinput", "cloud", "skiphours", "skipdays", "items": self = .ignoredContainer
            case "source": self = .source
            case "author": self = ns == .atom10 || ns == .atom03 ? .person : .author
            case "contributor": self = .ignoredContainer
            case "title": self = .title
            case "link": self = .link
            case "description": self = .description
            case "summary": self = .summary
            case "subtitle", "tagline": self = .subtitle
            case "content": self = .content
            case "body": self = .xhtmlBody
            case "fullitem": self = .contentEncoded
            case "guid": self = .guid
            case "id": self = .id
            case "pubdate": self = .pubDate
            case "published", "issued": self = .published
            case "updated", "modified": self = .updated
            case "lastbuilddate": self = .lastBuildDate
            case "created": self = .created
            case "name": self = .name
            case "email": self = .email
            case "uri": self = .uri
            case "url": self = .url
            case "category": self = .category
            case "enclosure": self = .enclosure
            case "language": self = .language
            case "generator": self = .generator
            case "logo": self = .logo
            case "icon": self = .icon
            case "ttl": self = .ttl
            case "managingeditor": self = .managingEditor
            case "webmaster": self = .webMaster
            default: self = .other
            }
        case .dc:
            switch local {
            case "title": self = .dcTitle
            case "creator", "author": self = .dcCreator
            case "date": self = .dcDate
            case "subject": self = .dcSubject
            case "language": self = .dcLanguage
            case "description": self = .dcDescription
            default: self = .other
            }
        case .dcterms:
            switch local {
            case "issued", "created": self = .dctermsIssued
            case "modified": self = .dctermsModified
            default: self = .other
            }
        case .content: self = local == "encoded" ? .contentEncoded : .other
        case .xhtml: self = local == "body" ? .xhtmlBody : .other
        case .media:
            switch local {
            case "content": self = .mediaContent
            case "thumbnail": self = .mediaThumbnail
            case "description": self = .mediaDescription
            case "category": self = .mediaCategory
            case "keywords": self = .mediaKeywords
            case "title": self = .mediaTitle
            default: self = .other  // media:group and the rest are transparent
            }
        case .itunes:
            switch local {
            case "author": self = .itunesAuthor
            case "summary": self = .itunesSummary
            case "image": self = .itunesImage
            case "owner": self = .ignoredContainer
            default: self = .other
            }
        case .sy:
            switch local {
            case "updatePeriod": self = .syUpdatePeriod
            case "updateFrequency": self = .syUpdateFrequency
            default: self = .other
            }
        case .rdf: self = local == "RDF" ? .rdfRoot : .other
        default: self = .other
        }
    }

    /// The document element, recognised by local name in any namespace
    /// (`<feed xmlns="http://example.com/newformat#">` is still Atom to its readers).
    static func root(local: String) -> Tag {
        switch local.lowercased() {
        case "rss": return .rssRoot
        case "rdf": return .rdfRoot
        case "feed": return .atomFeed
        case "channel": return .channel
        default: return .other
        }
    }
}
