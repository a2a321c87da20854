Console.WriteLine("PdApp.Bench: not implemented yet");
return 1;
