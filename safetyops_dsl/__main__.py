from safetyops_dsl.cli.main import main

main()
