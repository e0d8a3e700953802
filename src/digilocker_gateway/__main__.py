from digilocker_gateway.cli import main

main()
