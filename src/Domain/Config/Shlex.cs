using System.Text;

namespace OpenSvc.Domain.Config;

/// <summary>POSIX shell-like word splitting (Python's shlex.split), with newlines as plain whitespace.</summary>
public static class Shlex
{
    /// <summary>Splits <paramref name="text"/>; returns false (and a best-effort split) on an unclosed quote or trailing escape.</summary>
    public static bool TrySplit(string? text, out IReadOnlyList<string> words, out string? error)
    {
        var result = new List<string>();
        words = result;
        error = null;
        if (string.IsNullOrEmpty(text))
            return true;

        var word = new StringBuilder();
        var inWord = false;
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    result.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }
                i++;
                continue;
            }
            inWord = true;
            switch (c)
            {
                case '\'':
                    var close = text.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        error = "no closing quotation";
                        word.Append(text, i + 1, text.Length - i - 1);
                        i = text.Length;
                        break;
                    }
                    word.Append(text, i + 1, close - i - 1);
                    i = close + 1;
                    break;
                case '"':
                    i++;
                    var closed = false;
                    while (i < text.Length)
                    {
                        var d = text[i];
                        if (d == '"')
                        {
                            closed = true;
                            i++;
                            break;
                        }
                        if (d == '\\' && i + 1 < text.Length && text[i + 1] is '\\' or '"' or '$' or '`' or '\n')
                        {
                            word.Append(text[i + 1]);
                            i += 2;
                            continue;
                        }
                        word.Append(d);
                        i++;
                    }
                    if (!closed)
                        error = "no closing quotation";
                    break;
                case '\\':
                    if (i + 1 >= text.Length)
                    {
                        error = "no escaped character";
                        i++;
                        break;
                    }
                    word.Append(text[i + 1]);
                    i += 2;
                    break;
                default:
                    word.Append(c);
                    i++;
                    break;
            }
        }
        if (inWord)
            result.Add(word.ToString());
        return error is null;
    }

    public static IReadOnlyList<string> Split(string? text)
    {
        TrySplit(text, out var words, out _);
        return words;
    }
}
