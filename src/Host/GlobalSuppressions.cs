using System.Diagnostics.CodeAnalysis;

[assembly: SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Scope = "type", Target = "~T:OpenSvc.Host.Cli.UserError",
    Justification = "Read as a sentence at every throw site (throw new UserError(\"...\")): an error the operator fixes, never a crash.")]
