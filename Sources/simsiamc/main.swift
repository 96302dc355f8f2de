import SimSiamCLI

SimSiamCommand.main()
