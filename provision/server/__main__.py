from provision.server.cli import main

main()
