return await OpenSvc.Host.Cli.CliApp.RunAsync(args);
