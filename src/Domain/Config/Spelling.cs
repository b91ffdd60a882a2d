namespace OpenSvc.Domain.Config;

/// <summary>"Did you mean" for short words: section names, keywords, references, types.</summary>
internal static class Spelling
{
    /// <summary>Edit distance.</summary>
    public static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }
        return row[b.Length];
    }

    /// <summary>
    /// The one candidate <paramref name="word"/> is a likely misspelling of (case aside, at most 2 edits, and fewer
    /// edits than half its length), or null when there is none or more than one at the best distance.
    /// </summary>
    public static string? Nearest(string word, IEnumerable<string> candidates)
    {
        if (word.Length > 64)
            return null;
        var lower = word.ToLowerInvariant();
        var scored = candidates.Distinct(StringComparer.Ordinal).Where(c => c.Length <= 64 && c != word)
            .Select(c => (Candidate: c, Distance: Distance(lower, c.ToLowerInvariant())))
            .Where(x => x.Distance <= 2 && x.Distance * 2 < Math.Max(word.Length, 2))
            .ToList();
        if (scored.Count == 0)
            return null;
        var best = scored.Min(x => x.Distance);
        var nearest = scored.Where(x => x.Distance == best).Select(x => x.Candidate).ToList();
        return nearest.Count == 1 ? nearest[0] : null;
    }
}
