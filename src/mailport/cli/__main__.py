from mailport.cli import main

main()
