from harborctl.cli import main

main()
