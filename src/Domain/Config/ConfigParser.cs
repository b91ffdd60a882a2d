namespace OpenSvc.Domain.Config;

/// <summary>
/// Reads OpenSVC's INI dialect (Python RawConfigParser, strict=False). Never throws: anything it
/// cannot read becomes a located <see cref="ConfigProblem"/> and the rest of the text is still read.
/// </summary>
/// <remarks>
/// A line continues the current value when it is indented deeper than the line holding the key
/// (Python 3's rule), so a file indented as a whole, as in the documentation, reads the same.
/// </remarks>
public static class ConfigParser
{
    public static ConfigDocument Parse(string? text, string file = "<config>")
    {
        text ??= "";
        var problems = new List<ConfigProblem>();
        var sections = new List<ConfigSection>();
        var byName = new Dictionary<string, ConfigSection>(StringComparer.Ordinal);

        ConfigSection SectionNamed(string name, int line)
        {
            if (!byName.TryGetValue(name, out var section))
            {
                section = new ConfigSection(name, line);
                byName[name] = section;
                sections.Add(section);
            }
            else if (line > 0)
                section.HeaderAt(line);
            return section;
        }

        SectionNamed(ConfigDocument.DefaultSection, 0);
        ConfigSection? current = null;
        var skipping = false;

        // The key being read, kept open for continuation lines.
        ConfigSection? keySection = null;
        string? key = null;
        int keyLine = 0, keyIndent = 0, pendingBlanks = 0;
        List<string>? valueLines = null;

        void CloseKey()
        {
            if (key is not null && keySection is not null && valueLines is not null)
            {
                var (keyword, scope) = ConfigEntry.SplitKey(key);
                if (keySection.Get(key) is { } previous)
                    problems.Add(new ConfigProblem(file, keyLine, keySection.Name, key, Severity.Info,
                        $"repeated key (first at line {previous.Line}): the last value wins", null, null));
                keySection.Set(new ConfigEntry(key, keyword, scope, string.Join('\n', valueLines), keyLine));
            }
            key = null;
            keySection = null;
            valueLines = null;
            pendingBlanks = 0;
        }

        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine.EndsWith('\r') ? rawLine[..^1] : rawLine;
            var indent = 0;
            while (indent < line.Length && (line[indent] == ' ' || line[indent] == '\t'))
                indent++;
            var content = line.Trim();

            if (content.Length == 0)
            {
                if (key is not null)
                    pendingBlanks++;
                continue;
            }
            if (content[0] is '#' or ';')
                continue;

            if (key is not null && indent > keyIndent)
            {
                for (; pendingBlanks > 0; pendingBlanks--)
                    valueLines!.Add("");
                valueLines!.Add(content);
                continue;
            }

            CloseKey();

            if (content[0] == '[')
            {
                var name = content.EndsWith(']') ? content[1..^1].Trim() : "";
                if (name.Length == 0)
                {
                    problems.Add(new ConfigProblem(file, lineNumber, current?.Name ?? ConfigDocument.DefaultSection, null,
                        Severity.Error, $"malformed section header '{Shorten(content)}': the keys up to the next header are ignored",
                        "write the header as [group#index]", null));
                    skipping = true;
                    current = null;
                    continue;
                }
                current = SectionNamed(name, lineNumber);
                skipping = false;
                continue;
            }

            if (skipping)
                continue;

            var separator = content.IndexOfAny(['=', ':']);
            if (separator <= 0)
            {
                problems.Add(new ConfigProblem(file, lineNumber, current?.Name ?? ConfigDocument.DefaultSection, null,
                    Severity.Warning, $"ignored line '{Shorten(content)}': not a section header, a 'key = value' or a comment",
                    null, null));
                continue;
            }

            if (current is null)
            {
                current = SectionNamed(ConfigDocument.DefaultSection, 0);
                problems.Add(new ConfigProblem(file, lineNumber, current.Name, null, Severity.Info,
                    "keys before any section header are read as DEFAULT keys", "add a [DEFAULT] header", null));
            }

            key = content[..separator].TrimEnd();
            keySection = current;
            keyLine = lineNumber;
            keyIndent = indent;
            valueLines = [content[(separator + 1)..].TrimStart()];
        }
        CloseKey();

        return new ConfigDocument(file, sections, problems);
    }

    static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "…";
}
