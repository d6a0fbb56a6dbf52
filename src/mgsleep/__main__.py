from mgsleep.cli import main

main()
