using System.Globalization;

namespace OpenSvc.Domain.Config;

/// <summary>OpenSVC's value converters. Each TryX returns false on a value it cannot read.</summary>
public static class Converters
{
    /// <summary>Whitespace (newlines included) separated words.</summary>
    public static IReadOnlyList<string> List(string? value) =>
        string.IsNullOrWhiteSpace(value) ? [] : value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    public static bool TryBool(string? value, out bool result)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case "true" or "yes" or "y" or "1" or "on":
                result = true;
                return true;
            case "false" or "no" or "n" or "0" or "off" or "":
                result = false;
                return true;
            default:
                result = false;
                return false;
        }
    }

    public static bool TryInt(string? value, out int result) =>
        int.TryParse(value?.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out result);

    /// <summary>
    /// A duration in seconds. Units: s, m, h, d, w; several terms add up (<c>1h 1s</c> = 3601,
    /// <c>1d3h</c> = 97200); a leading '-' negates. A bare number is counted in <paramref name="bareUnitSeconds"/>
    /// (1 for seconds, 60 for keywords declared in minutes such as <c>sync_max_delay</c>).
    /// </summary>
    public static bool TryDuration(string? value, out long seconds, long bareUnitSeconds = 1)
    {
        seconds = 0;
        var text = value?.Trim() ?? "";
        if (text.Length == 0)
            return false;
        var sign = 1L;
        if (text[0] == '-')
        {
            sign = -1;
            text = text[1..].TrimStart();
        }
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var bare))
        {
            seconds = checked(sign * bare * bareUnitSeconds);
            return true;
        }

        var i = 0;
        var total = 0L;
        var terms = 0;
        try
        {
            while (i < text.Length)
            {
                while (i < text.Length && char.IsWhiteSpace(text[i]))
                    i++;
                if (i == text.Length)
                    break;
                var start = i;
                while (i < text.Length && char.IsAsciiDigit(text[i]))
                    i++;
                if (i == start || i - start > 12)
                    return false;
                var number = long.Parse(text.AsSpan(start, i - start), CultureInfo.InvariantCulture);
                while (i < text.Length && char.IsWhiteSpace(text[i]))
                    i++;
                if (i == text.Length)
                    return false;
                long unit = char.ToLowerInvariant(text[i]) switch
                {
                    's' => 1,
                    'm' => 60,
                    'h' => 3600,
                    'd' => 86400,
                    'w' => 7 * 86400,
                    _ => 0,
                };
                if (unit == 0)
                    return false;
                i++;
                total = checked(total + number * unit);
                terms++;
            }
        }
        catch (OverflowException)
        {
            return false;
        }
        if (terms == 0)
            return false;
        seconds = sign * total;
        return true;
    }

    /// <summary>A transfer speed in KB/s: <c>3 mb/s</c> = 3072, <c>512k</c> = 512, bare numbers are KB/s.</summary>
    public static bool TrySpeedKbps(string? value, out long kbps)
    {
        kbps = 0;
        var text = (value ?? "").Trim().ToLowerInvariant().Replace(" ", "", StringComparison.Ordinal);
        if (text.EndsWith("/s", StringComparison.Ordinal))
            text = text[..^2];
        if (text.Length == 0)
            return false;
        var digits = 0;
        while (digits < text.Length && (char.IsAsciiDigit(text[digits]) || text[digits] == '.'))
            digits++;
        if (digits == 0 || !double.TryParse(text.AsSpan(0, digits), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            return false;
        var unitText = text[digits..];
        double factorKb = unitText == "b"
            ? 1d / 1024
            : unitText.TrimEnd('b').Replace("i", "", StringComparison.Ordinal) switch
            {
                "" or "k" => 1,
                "m" => 1024,
                "g" => 1024 * 1024,
                "t" => 1024d * 1024 * 1024,
                _ => -1,
            };
        if (factorKb < 0)
            return false;
        var result = number * factorKb;
        if (result > long.MaxValue / 2)
            return false;
        kbps = (long)Math.Round(result);
        return true;
    }
}
