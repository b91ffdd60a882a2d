using System.Diagnostics.CodeAnalysis;

[assembly: SuppressMessage("Naming", "CA1720:Identifier contains type name", Scope = "member", Target = "~F:OpenSvc.Domain.Config.ValueKind.String",
    Justification = "The kinds of value a keyword takes, as OpenSVC's keyword reference names them.")]
[assembly: SuppressMessage("Naming", "CA1720:Identifier contains type name", Scope = "member", Target = "~F:OpenSvc.Domain.Config.ValueKind.Int",
    Justification = "The kinds of value a keyword takes, as OpenSVC's keyword reference names them.")]
[assembly: SuppressMessage("Naming", "CA1720:Identifier contains type name", Scope = "member", Target = "~M:OpenSvc.Domain.Runs.RunTimeline.Short(System.Guid)~System.String",
    Justification = "A run's short id, as git's short hashes: the word the CLI prints and users type.")]
