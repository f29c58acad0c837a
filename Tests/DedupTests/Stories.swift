/// Texts for the tests, written for them: one story, and a different report of
/// the same event that shares names, numbers and a quote with it.
enum Stories {
    static let original = """
        The harbour authority in Kestrel Bay voted on Tuesday to close the old ferry terminal by the end of the year, ending more than a century of passenger crossings from the town's waterfront.

        Councillors said the decision followed an engineering report which found that the pier's timber supports had decayed far faster than expected after two unusually stormy winters.

        "We did not take this lightly, and we know how much the ferry means to people here," said the authority's chair, Margaret Olsen, after the meeting.

        Repairs would have cost an estimated 14 million pounds, a sum the authority said it could not raise without doubling the harbour fees paid by the fishing fleet.

        Passenger numbers have fallen by a third since the new coastal road opened, although the crossing remains popular with tourists during the summer months.

        A campaign group formed last spring to save the terminal said it would ask the regional government to review the decision and to fund an independent survey of the pier.
        """

    /// The original with a new headline's worth of junk around it, as a reprinter publishes it.
    static let reprint = """
        .in_text_content_22 { width: 300px; height: 600px; } @media(min-width: 600px) { .in_text_content_22 { width: 336px; } }

        The harbor authority in Kestrel Bay voted on Tuesday to close the old ferry terminal by the end of the year, ending more than a century of passenger crossings from the town’s waterfront.

        Councilors said the decision followed an engineering report which found that the pier’s timber supports had decayed far faster than expected after two unusually stormy winters.

        “We did not take this lightly, and we know how much the ferry means to people here,” said the authority’s chair, Margaret Olsen, after the meeting.

        Repairs would have cost an estimated 14 million pounds, a sum the authority said it could not raise without doubling the harbor fees paid by the fishing fleet.

        Passenger numbers have fallen by a third since the new coastal road opened, although the crossing remains popular with tourists during the summer months.

        A campaign group formed last spring to save the terminal said it would ask the regional government to review the decision and to fund an independent survey of the pier.
        """

    /// The first two paragraphs only, as an excerpt feed carries them.
    static var excerpt: String {
        original.components(separatedBy: "\n\n").prefix(2).joined(separator: "\n\n")
    }

    static let otherReport = """
        Ferry users in Kestrel Bay reacted with anger on Wednesday to the harbour authority's plan to shut the passenger terminal, with some saying they had learned of it only from social media.

        At a packed meeting in the parish hall, residents questioned whether the 14 million pound repair estimate had been checked by anyone outside the authority.

        Margaret Olsen, who chairs the authority, told the meeting that the board had not taken the decision lightly and that talks with bus operators about a replacement service had already begun.

        Fishermen, whose fees fund most of the harbour's upkeep, were divided: several said they would rather pay more than lose the ferry, while others welcomed the end of the repair bills.

        The campaign to save the terminal now has more than three thousand signatures and plans a march along the waterfront on Saturday.
        """

    static let short = "Live: Kestrel Bay ferry decision - follow the latest updates as they happen."
    static let shortOther = "Live: Harbour fees vote - follow the latest updates as they happen."
}
