using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace OpenSvc.Domain.Config;

/// <summary>
/// OpenSVC's <c>$(...)</c> expressions (extconfig's <c>eval_expr</c>): after a value's references are expanded, the first
/// <c>$(expr)</c> on a line (greedy to that line's last ')') is evaluated and replaced by its result as Python prints
/// it (<c>$(2*3)</c> → <c>6</c>, <c>$(3/2)</c> → <c>1.5</c>, <c>$(1 == 1)</c> → <c>True</c>, <c>$(a == a)</c> → <c>True</c>:
/// a bare name is a string). What OpenSVC evaluates: numbers, quoted strings, names, + - * / // % ** | &amp; ^, unary -,
/// not, and, or, comparisons and <c>in</c>; anything else is an error there and a located error here, never text left
/// as written. OpenSVC's own quirks are kept: <c>or</c> yields its first operand, <c>and</c> yields True or False, and a
/// chained comparison only checks its first pair. Deliberate limits: integers are 64-bit and strings
/// <see cref="ConfigBudget.MaxValueLength"/> characters (Python's are unbounded).
/// </summary>
public static partial class Expression
{
    /// <summary>The value with its first expression evaluated; false with the reason when the expression is not one OpenSVC evaluates.</summary>
    public static bool TryApply(string value, out string result, out string? expression, out string? error)
    {
        result = value;
        expression = null;
        error = null;
        if (!value.Contains("$(", StringComparison.Ordinal))
            return true;
        var match = ExpressionPattern().Match(value);
        if (!match.Success)
            return true;
        expression = match.Groups[1].Value;
        if (!TryEvaluate(expression, out var evaluated, out error))
            return false;
        result = string.Concat(value.AsSpan(0, match.Index), evaluated, value.AsSpan(match.Index + match.Length));
        return true;
    }

    /// <summary>Evaluates one expression (the text between <c>$(</c> and <c>)</c>) to its printed result.</summary>
    public static bool TryEvaluate(string expression, out string result, out string? error)
    {
        result = "";
        try
        {
            var parser = new Parser(expression);
            var value = parser.Parse();
            result = Print(value);
            error = null;
            return true;
        }
        catch (ExpressionException e)
        {
            error = e.Message;
            return false;
        }
    }

    sealed class ExpressionException(string message) : Exception(message);

    /// <summary>A name OpenSVC reads as its own text (<c>a</c> in <c>$(a in (a, b))</c>), kept apart for tuples.</summary>
    sealed record Name(string Text);

    sealed record Tuple(IReadOnlyList<object?> Items);

    static string Print(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => PrintFloat(d),
        string s => s,
        Name n => n.Text,
        _ => throw new ExpressionException("a tuple is only usable on the right of 'in'"),
    };

    static string PrintFloat(double d)
    {
        if (double.IsNaN(d))
            return "nan";
        if (double.IsInfinity(d))
            return d > 0 ? "inf" : "-inf";
        if (Math.Floor(d) == d && Math.Abs(d) < 1e16)
            return d.ToString("F0", CultureInfo.InvariantCulture) + ".0";
        return d.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
    }

    sealed class Parser(string text)
    {
        int _at;
        int _depth;

        public object? Parse()
        {
            var value = Or();
            Skip();
            if (_at < text.Length)
                throw new ExpressionException($"unexpected '{text[_at..Math.Min(text.Length, _at + 10)]}'");
            return value;
        }

        void Skip()
        {
            while (_at < text.Length && text[_at] is ' ' or '\t')
                _at++;
        }

        bool Accept(string token)
        {
            Skip();
            if (string.CompareOrdinal(text, _at, token, 0, token.Length) != 0)
                return false;
            var end = _at + token.Length;
            // Word operators need a word boundary; '*' must not take the first half of '**', '/' of '//', '<' of '<='.
            if (char.IsLetter(token[0]) && end < text.Length && (char.IsLetterOrDigit(text[end]) || text[end] == '_'))
                return false;
            if (token is "*" or "/" or "<" or ">" or "=" or "!" && end < text.Length && (text[end] == token[0] || text[end] == '='))
                return false;
            _at = end;
            return true;
        }

        object? Or()
        {
            var first = And();
            // OpenSVC's BoolOp 'or' returns its first operand, truthy or not (its loop returns in the first round).
            while (Accept("or"))
                And();
            return first;
        }

        object? And()
        {
            var operands = new List<object?> { Not() };
            while (Accept("and"))
                operands.Add(Not());
            return operands.Count == 1 ? operands[0] : operands.All(Truthy);
        }

        object? Not()
        {
            if (Accept("not"))
                return !Truthy(Not());
            return Comparison();
        }

        object? Comparison()
        {
            var left = BitOr();
            bool? result = null;
            while (true)
            {
                string? op = null;
                foreach (var candidate in new[] { "==", "!=", "<=", ">=", "<", ">", "in", "is", "not" })
                    if (Accept(candidate)) { op = candidate; break; }
                if (op is null)
                    break;
                if (op is "is" or "not")
                    throw new ExpressionException($"unsupported operator '{op}'");
                var right = BitOr();
                // OpenSVC checks the first pair of a chain only.
                result ??= Compare(op, left, right);
                left = right;
            }
            return result is null ? left : result.Value;
        }

        object? BitOr()
        {
            var left = BitXor();
            while (Accept("|"))
                left = Bits(left, BitXor(), "|", (a, b) => a | b);
            return left;
        }

        object? BitXor()
        {
            var left = BitAnd();
            while (Accept("^"))
                left = Bits(left, BitAnd(), "^", (a, b) => a ^ b);
            return left;
        }

        object? BitAnd()
        {
            var left = Arith();
            while (Accept("&"))
                left = Bits(left, Arith(), "&", (a, b) => a & b);
            return left;
        }

        object? Arith()
        {
            var left = Term();
            while (true)
            {
                if (Accept("+"))
                    left = Add(left, Term());
                else if (Accept("-"))
                    left = Numeric(left, Term(), "-", (a, b) => checked(a - b), (a, b) => a - b);
                else
                    return left;
            }
        }

        object? Term()
        {
            var left = Factor();
            while (true)
            {
                if (Accept("*"))
                    left = Multiply(left, Factor());
                else if (Accept("//"))
                    left = Numeric(left, Factor(), "//", FloorDiv, (a, b) => b == 0 ? throw Zero() : Math.Floor(a / b));
                else if (Accept("/"))
                    left = TrueDiv(left, Factor());
                else if (Accept("%"))
                    left = Numeric(left, Factor(), "%", Mod, (a, b) => b == 0 ? throw Zero() : a - b * Math.Floor(a / b));
                else
                    return left;
            }
        }

        object? Factor()
        {
            if (Accept("-"))
            {
                var operand = Factor();
                return Number(operand) switch
                {
                    long l => (object)checked(-l),
                    double d => -d,
                    _ => throw new ExpressionException($"bad operand type for unary -: '{TypeName(operand)}'"),
                };
            }
            if (Accept("+") || Accept("~"))
                throw new ExpressionException("unsupported unary operator");
            return Power();
        }

        object? Power()
        {
            var left = Atom();
            if (!Accept("**"))
                return left;
            var right = Factor();
            return Numeric(left, right, "**", IntPow, Math.Pow);
        }

        object? Atom()
        {
            Skip();
            if (_at >= text.Length)
                throw new ExpressionException("unexpected end of expression");
            var c = text[_at];
            if (c == '(')
            {
                if (++_depth > 50)
                    throw new ExpressionException("parentheses nest too deep");
                _at++;
                if (Accept(")"))
                    return new Tuple([]);
                var items = new List<object?> { Or() };
                var tuple = false;
                while (Accept(","))
                {
                    tuple = true;
                    Skip();
                    if (_at < text.Length && text[_at] == ')')
                        break;
                    items.Add(Or());
                }
                if (!Accept(")"))
                    throw new ExpressionException("'(' was never closed");
                _depth--;
                return tuple ? new Tuple(items) : items[0];
            }
            if (c is '\'' or '"')
                return String(c);
            if (char.IsDigit(c) || (c == '.' && _at + 1 < text.Length && char.IsDigit(text[_at + 1])))
                return NumberLiteral();
            if (char.IsLetter(c) || c == '_')
            {
                var start = _at;
                while (_at < text.Length && (char.IsLetterOrDigit(text[_at]) || text[_at] == '_'))
                    _at++;
                var word = text[start.._at];
                if (_at < text.Length && text[_at] == '.')
                    throw new ExpressionException("strings with dots need quoting");
                return word switch
                {
                    "True" => true,
                    "False" => false,
                    "None" => null,
                    "and" or "or" or "not" or "in" or "is" or "if" or "else" or "lambda" or "for" => throw new ExpressionException($"unexpected '{word}'"),
                    _ => new Name(word),
                };
            }
            throw new ExpressionException($"unexpected '{c}'");
        }

        string String(char quote)
        {
            var builder = new StringBuilder();
            _at++;
            while (_at < text.Length && text[_at] != quote)
            {
                if (text[_at] == '\\' && _at + 1 < text.Length)
                {
                    _at++;
                    builder.Append(text[_at] switch { 'n' => '\n', 't' => '\t', var other => other });
                }
                else
                    builder.Append(text[_at]);
                _at++;
            }
            if (_at >= text.Length)
                throw new ExpressionException("unterminated string");
            _at++;
            return builder.ToString();
        }

        object NumberLiteral()
        {
            var start = _at;
            while (_at < text.Length && (char.IsAsciiLetterOrDigit(text[_at]) || text[_at] is '.' or '_'
                   || (text[_at] is '+' or '-' && _at > start && text[_at - 1] is 'e' or 'E')))
                _at++;
            var literal = text[start.._at].Replace("_", "", StringComparison.Ordinal);
            if (long.TryParse(literal, NumberStyles.None, CultureInfo.InvariantCulture, out var l))
                return l;
            if (literal.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                && long.TryParse(literal[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
                return hex;
            if (!literal.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && literal.All(ch => char.IsDigit(ch)))
                throw new ExpressionException($"integer {Shorten(literal)} is beyond this agent's 64-bit integers");
            if (double.TryParse(literal, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                return d;
            throw new ExpressionException($"invalid number '{Shorten(literal)}'");
        }
    }

    static string Shorten(string text) => text.Length <= 30 ? text : text[..30] + "…";

    static ExpressionException Zero() => new("division by zero");

    static ExpressionException Overflow() => new("the result is beyond this agent's 64-bit integers");

    static object? Number(object? value) => value is bool b ? (b ? 1L : 0L) : value;

    static bool Truthy(object? value) => value switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        Name n => n.Text.Length > 0,
        Tuple t => t.Items.Count > 0,
        _ => true,
    };

    static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string or Name => "str",
        _ => "tuple",
    };

    static string? Text(object? value) => value switch { string s => s, Name n => n.Text, _ => null };

    static object Add(object? left, object? right)
    {
        if (Text(left) is { } a && Text(right) is { } b)
            return Limit(a + b);
        return Numeric(left, right, "+", (x, y) => checked(x + y), (x, y) => x + y);
    }

    static object Multiply(object? left, object? right)
    {
        if (Text(left) is { } s && Number(right) is long n)
            return Repeat(s, n);
        if (Text(right) is { } s2 && Number(left) is long n2)
            return Repeat(s2, n2);
        return Numeric(left, right, "*", (x, y) => checked(x * y), (x, y) => x * y);
    }

    static string Repeat(string s, long n)
    {
        if (n <= 0 || s.Length == 0)
            return "";
        if (n > ConfigBudget.MaxValueLength / s.Length)
            throw new ExpressionException($"the result is longer than {ConfigBudget.MaxValueLength} characters");
        return string.Concat(Enumerable.Repeat(s, (int)n));
    }

    static string Limit(string s) => s.Length <= ConfigBudget.MaxValueLength ? s
        : throw new ExpressionException($"the result is longer than {ConfigBudget.MaxValueLength} characters");

    static object TrueDiv(object? left, object? right)
    {
        var (a, b) = (Number(left), Number(right));
        var x = a switch { long l => (double)l, double d => d, _ => throw Unsupported("/", left, right) };
        var y = b switch { long l => (double)l, double d => d, _ => throw Unsupported("/", left, right) };
        return y == 0 ? throw Zero() : x / y;
    }

    static long FloorDiv(long a, long b)
    {
        if (b == 0)
            throw Zero();
        if (a == long.MinValue && b == -1)
            throw Overflow();
        var q = a / b;
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
    }

    static long Mod(long a, long b)
    {
        if (b == 0)
            throw Zero();
        if (b == -1)
            return 0;
        var r = a % b;
        return r != 0 && (r < 0) != (b < 0) ? r + b : r;
    }

    static object IntPow(long a, long b)
    {
        if (b < 0)
            return Math.Pow(a, b);
        if (a == 0)
            return b == 0 ? 1L : 0L;
        if (a == 1)
            return 1L;
        if (a == -1)
            return b % 2 == 0 ? 1L : -1L;
        long result = 1;
        for (long i = 0; i < b; i++)
            result = checked(result * a); // |a| >= 2: overflows within 64 rounds
        return result;
    }

    static object Numeric(object? left, object? right, string op, Func<long, long, object> integer, Func<double, double, double> real)
    {
        var (a, b) = (Number(left), Number(right));
        try
        {
            return (a, b) switch
            {
                (long x, long y) => integer(x, y),
                (long x, double y) => real(x, y),
                (double x, long y) => real(x, y),
                (double x, double y) => real(x, y),
                _ => throw Unsupported(op, left, right),
            };
        }
        catch (OverflowException)
        {
            throw Overflow();
        }
    }

    static object Numeric(object? left, object? right, string op, Func<long, long, long> integer, Func<double, double, double> real) =>
        Numeric(left, right, op, (x, y) => (object)integer(x, y), real);

    static object Bits(object? left, object? right, string op, Func<long, long, long> f)
    {
        if (left is bool a && right is bool b)
            return f(a ? 1 : 0, b ? 1 : 0) != 0;
        return (Number(left), Number(right)) is (long x, long y) ? f(x, y) : throw Unsupported(op, left, right);
    }

    static ExpressionException Unsupported(string op, object? left, object? right) =>
        new($"unsupported operand type(s) for {op}: '{TypeName(left)}' and '{TypeName(right)}'");

    static bool Compare(string op, object? left, object? right)
    {
        if (op == "in")
        {
            if (right is Tuple tuple)
                return tuple.Items.Any(item => item is Name n && Text(left) == n.Text);
            if (Text(right) is { } haystack && Text(left) is { } needle)
                return haystack.Contains(needle, StringComparison.Ordinal);
            throw new ExpressionException($"'in' needs a string or a tuple on its right, not '{TypeName(right)}'");
        }
        if (op is "==" or "!=")
        {
            var equal = (Number(left), Number(right)) switch
            {
                (long x, long y) => x == y,
                (long x, double y) => x == y,
                (double x, long y) => x == y,
                (double x, double y) => x == y,
                _ when Text(left) is { } s && Text(right) is { } t => s == t,
                (null, null) => true,
                _ => false,
            };
            return op == "==" ? equal : !equal;
        }
        int order;
        if (Text(left) is { } sl && Text(right) is { } sr)
            order = string.CompareOrdinal(sl, sr);
        else
        {
            var x = Number(left) switch { long l => (double)l, double d => d, _ => throw Unordered(op, left, right) };
            var y = Number(right) switch { long l => (double)l, double d => d, _ => throw Unordered(op, left, right) };
            order = x.CompareTo(y);
        }
        return op switch { "<" => order < 0, "<=" => order <= 0, ">" => order > 0, _ => order >= 0 };
    }

    static ExpressionException Unordered(string op, object? left, object? right) =>
        new($"'{op}' not supported between instances of '{TypeName(left)}' and '{TypeName(right)}'");

    /// <summary>extconfig's <c>\$\((.+)\)</c>: greedy, within one line.</summary>
    [GeneratedRegex(@"\$\((.+)\)")]
    private static partial Regex ExpressionPattern();
}
