from stickyforensics.cli.app import main

main()
