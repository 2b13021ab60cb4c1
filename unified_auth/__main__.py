from unified_auth.cli import main

main()
