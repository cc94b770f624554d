from monitoring.exporter.main import main

main()
